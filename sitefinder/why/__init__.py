"""``sitefinder why``: everything a ranking run knows about one school, in words and numbers.

:func:`explain_school` (:mod:`.school`) computes it from a :class:`~sitefinder.pipeline.
RankResult`, every figure an exact LP optimum; :func:`why_document` (:mod:`.document`) protects
every figure with the run's disclosure rule and writes the sentences (each suitability rule in
words: :mod:`.rules`); :func:`why_text` (:mod:`.text`) and :func:`why_json` render that one
document, so the command's text and JSON say the same.
"""

from sitefinder.why.document import why_document, why_json
from sitefinder.why.school import ExtraBase, SchoolExplanation, explain_school
from sitefinder.why.text import why_text

__all__ = [
    "ExtraBase",
    "SchoolExplanation",
    "explain_school",
    "why_document",
    "why_json",
    "why_text",
]
