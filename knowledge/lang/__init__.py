"""Pure text and time: normalisation and readings, date words, recurrences, audience words,
"today" in Japan, CSV reading, the reference data shipped with the package.

Nothing here opens a base: every function takes text or dates and returns them.
"""
