"""Feedback: the store of answers shown and the ratings, preferences, rankings and edits given on them.

``schema`` (SQL tables and versions), ``records`` (the pydantic records), ``io`` (import files) and ``store``
(``FeedbackStore``). Training data made from feedback is in ``ragtune.datasets.exports``.
"""
