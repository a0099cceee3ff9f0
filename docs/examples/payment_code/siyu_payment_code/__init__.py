"""Pay by the shop's payment code (收款码): a small payment gateway for Siyu."""
