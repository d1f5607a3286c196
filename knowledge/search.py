"""The matcher's former single module, kept so that existing imports keep working.

It was split by what each part does: ``knowledge.index`` (the index and its cache),
``knowledge.query`` (question analysis), ``knowledge.scoring`` (candidates and rerank) and
``knowledge.weights`` (every number of the score). New code imports from those.
"""

from knowledge.index import (
    CACHE,
    Doc,
    Index,
    IndexCache,
    Postings,
    Synonym,
    Synonyms,
    _doc,
    build_index,
    doc_grams,
    index_for,
    load_docs,
    load_synonyms,
)
from knowledge.query import Query, make_query
from knowledge.scoring import candidates, combine, coverage, query_grams, title_precision, title_similarity

__all__ = [
    "CACHE", "Doc", "Index", "IndexCache", "Postings", "Synonym", "Synonyms", "_doc", "build_index", "doc_grams",
    "index_for", "load_docs", "load_synonyms", "Query", "make_query", "candidates", "combine", "coverage",
    "query_grams", "title_precision", "title_similarity",
]
