# frozen_string_literal: true

require "json"

module LedgerSpec
  module Differential
    # What one path answered, written so that two paths' answers compare as
    # text: every Ruby value as a tagged JSON form that keeps what JSON would
    # blur (Symbol vs String, Integer vs Float, -0.0, encodings, frozen-ness),
    # every exception as its class and message. Plain Ruby: it runs inside the
    # child processes of the harness, not only under rspec.
    module Transcript
      module_function

      # @param obj [Object]
      # @return [Object] JSON-able tagged form
      def typed(obj)
        case obj
        when nil, true, false then obj
        when Symbol then { "sym" => symbol_text(obj) }
        when String then { "str" => text(obj) }
        when Integer then { "int" => obj.to_s }
        when Float then { "float" => obj.to_s }
        when Array then { "array" => obj.map { |v| typed(v) } }
        when Hash then { "hash" => obj.map { |k, v| [typed(k), typed(v)] } }
        when Igniter::Store::Fact then { "fact" => fact(obj) }
        else { "object" => obj.class.name, "text" => text(obj.to_s) }
        end
      end

      # A fact's members, its id and times as given (the caller masks what
      # differs between runs).
      def fact(fact)
        Igniter::Store::JsonCanon::FIELDS.to_h { |name| [name.to_s, typed(fact.public_send(name))] }
      end

      # @return [Hash] the exception as class + message (its text: Ruby's own
      #   messages are US-ASCII, ours UTF-8, and that is no difference)
      def error(exception)
        message = exception.message.dup.force_encoding(Encoding::UTF_8)
        { "raised" => exception.class.name, "message" => message.valid_encoding? ? message : text(exception.message) }
      end

      # A Symbol's name; an ASCII name is US-ASCII whatever made the Symbol.
      def symbol_text(sym)
        sym.name.encoding == Encoding::US_ASCII ? sym.name.dup.force_encoding(Encoding::UTF_8) : text(sym.name)
      end

      # A String's text as valid UTF-8 JSON: its encoding, and its bytes as hex
      # when they are not valid text in that encoding.
      def text(str)
        utf8 = str.dup.force_encoding(Encoding::UTF_8)
        shown = utf8.valid_encoding? ? utf8 : { "hex" => str.unpack1("H*") }
        str.encoding == Encoding::UTF_8 ? shown : { "encoding" => str.encoding.name, "text" => shown }
      end
    end
  end
end
