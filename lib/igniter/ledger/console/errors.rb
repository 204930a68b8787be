# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # A request parameter the console cannot use; answered with 400 and the message.
      class BadRequest < StandardError; end

      # What the request names is not in the ledger; answered with 404 and the message.
      class NotFound < StandardError; end
    end
  end
end
