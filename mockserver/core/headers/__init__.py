"""The header side of a request: media types and Accept negotiation, credentials (schemes, the
credential store, what a record keeps of a secret), language, culture and time zone, the header
size rule, and the cache that remembers what one header set concluded. Nothing here reads a body.
"""
