"""After-sales (售后): a member's request for a refund or a return, and the shop's decisions.

Each service runs under the order's lock and calls ``on_after_sale_requested`` /
``on_after_sale_decided`` in its transaction; see docs/fulfilment.md for the states.
"""
from siyu.core.after_sales import approve, mark_received, record_return_shipment, refund, reject, withdraw
from siyu.core.after_sales_requests import get_after_sale, request_after_sale

__all__ = ["request_after_sale", "get_after_sale", "approve", "reject", "withdraw",
           "record_return_shipment", "mark_received", "refund"]
