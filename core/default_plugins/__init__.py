"""Core features written as plugins on the public hooks (``trylast``): replaceable."""
