"""What the technician pages offer a user, asked of the policies rather than decided here."""

from django import template

from assets import policy as asset_policy

register = template.Library()


@register.filter
def may_print_labels(user) -> bool:
    """`{% if user|may_print_labels %}`: the labels links, for those who print labels."""
    return user.is_authenticated and asset_policy.may_print_labels(user)
