"""Siyu plugin crm_tags: member tags, points, levels, segments and member data rights."""
