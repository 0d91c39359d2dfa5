"""Who may do what with assets: print their QR labels.

Stock movements for work orders (issuing parts) are decided by `workorders.policy`
(`check_part_issue`); the rest of asset and stock upkeep is the planners' admin.
"""

LABELS_ARE_PLANNERS = "Only planners print asset labels."


def may_print_labels(user) -> bool:
    """Whether `user` prints asset labels (planners and superusers: labels go on plant)."""
    return user.is_planner
