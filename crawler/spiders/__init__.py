"""Spiders: `portal` is the one generic spider; add a subclass here only for a site that truly needs one."""
