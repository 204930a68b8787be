# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/guarded_listener.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/guarded_listener"` still works.
require "igniter/store/adapters"
