"""Web pages: referral links, the distributor center, the owner's back office."""
