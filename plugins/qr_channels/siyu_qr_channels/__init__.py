"""Siyu plugin ``qr_channels``: parametric QR codes per channel and the channel funnel."""

__version__ = "0.1.0"
