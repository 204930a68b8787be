# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/errors.rb;
# kept so that `require "igniter/store/postgres/errors"` still works.
require "igniter/store/storage/postgres/errors"
