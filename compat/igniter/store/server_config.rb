# frozen_string_literal: true

# Moved to lib/igniter/store/server/server_config.rb
# (loaded with the server layer);
# kept so that `require "igniter/store/server_config"` still works.
require "igniter/store/servers"
