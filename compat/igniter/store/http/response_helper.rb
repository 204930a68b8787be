# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/response_helper.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/response_helper"` still works.
require "igniter/store/adapters"
