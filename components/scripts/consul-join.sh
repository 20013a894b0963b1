# The tutorial's `consul join`: ADDRESSES are validated IPs or hostnames, split on purpose.
# shellcheck disable=SC2086
consul join $ADDRESSES
