# frozen_string_literal: true

# Moved to lib/igniter/store/core/access_path.rb
# (loaded with the core layer);
# kept so that `require "igniter/store/access_path"` still works.
require "igniter/store/core"
