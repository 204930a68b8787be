# frozen_string_literal: true

# Moved to lib/igniter/store/core/pure/fact_log.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/fact_log"` still works.
require "igniter/store/core"
