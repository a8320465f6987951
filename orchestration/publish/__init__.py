"""Publication: code-level reporting tables, QPP submission JSON and one page per quality-data code.

Everything is built aside (a new DuckDB file and a new versioned directory) and swapped in only after it
validates, so readers always see one complete publication.
"""
