"""Siyu plugin: coupons sent in the chat window, a wallet, race-safe redemption."""
