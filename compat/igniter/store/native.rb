# frozen_string_literal: true

# Moved to lib/igniter/store/core/native.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/native"` still works.
require "igniter/store/core"
