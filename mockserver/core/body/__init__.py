"""The body side of a request: decoding JSON, XML and form bodies into name/value pairs, the rules
a value is read by (base64, enums, int32), binding the pairs to a contract's properties, and the
hints that explain a body sent under the wrong Content-Type. Nothing here reads a header.
"""
