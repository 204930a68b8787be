# frozen_string_literal: true

# Moved to lib/igniter/store/server/server_metrics.rb
# (loaded with the server layer);
# kept so that `require "igniter/store/server_metrics"` still works.
require "igniter/store/servers"
