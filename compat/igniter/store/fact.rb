# frozen_string_literal: true

# Moved to lib/igniter/store/core/pure/fact.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/fact"` still works.
require "igniter/store/core"
