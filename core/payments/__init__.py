"""Payment providers. The core ships ``stripe`` (PaymentIntents) and ``manual``."""
