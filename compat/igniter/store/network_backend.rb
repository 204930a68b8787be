# frozen_string_literal: true

# Moved to lib/igniter/store/server/network_backend.rb
# (loaded with the server layer);
# kept so that `require "igniter/store/network_backend"` still works.
require "igniter/store/servers"
