# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer/settings.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed/settings"` still works.
require "igniter/store/feed"
