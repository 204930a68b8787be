# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/tcp_adapter.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/tcp_adapter"` still works.
require "igniter/store/adapters"
