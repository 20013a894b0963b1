rm -f /usr/local/bin/consul /usr/local/bin/consul.new
