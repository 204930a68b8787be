# frozen_string_literal: true

# Moved to lib/igniter/store/core/json_canon.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/json_canon"` still works.
require "igniter/store/core"
