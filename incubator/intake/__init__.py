"""Application intake: calls, forms, applications, review, decisions and letters."""
