"""What a call does and what it answers: the behaviours that change the state (save an image, link
one), the faults a test injects, encoding the result or error as JSON or XML, and the coverage of
which answers each contract can give.
"""
