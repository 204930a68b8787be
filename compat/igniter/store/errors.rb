# frozen_string_literal: true

# Moved to lib/igniter/store/core/errors.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/errors"` still works.
require "igniter/store/core"
