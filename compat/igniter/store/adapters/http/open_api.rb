# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/open_api.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/adapters/http/open_api"` still works.
require "igniter/store/adapters"
