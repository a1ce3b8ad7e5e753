"""The shop API's cross-cutting pieces (DESIGN.md, "storage/ (target)": shop_api/)."""
