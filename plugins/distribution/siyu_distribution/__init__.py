"""Siyu distribution (分销): distributors, referral links, customer binding, commissions, payouts."""
