"""Finding the records a question may be answered with: the index and its documents, question
analysis, scoring and its named weights, sentence embeddings and their stored vectors.
"""
