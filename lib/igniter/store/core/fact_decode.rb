# frozen_string_literal: true

require "json"
require "securerandom"

module Igniter
  module Store
    # The decode rules of a fact body (doc/format.md "Decoding a fact body"),
    # in one place. The Rust half is `ledger_core::fact_decode`; both are fed
    # the cases of spec/fixtures/decode_cases.json, so the rules cannot drift.
    #
    # A body that breaks a rule is skipped by every reader; {decode_with_reason}
    # says which rule, in the same words as the Rust half.
    module FactDecode
      # Deepest container nesting a value may have (outermost container = 1).
      MAX_NESTING = 100

      # Data members, as the `symbols` paths name them.
      DATA_FIELD_NAMES = %w[value producer derivation].freeze

      # Why text that does not parse was skipped.
      NOT_JSON = "not strict JSON"

      # A fact body is a value one level down, hence one more level.
      PARSE_OPTIONS = { symbolize_names: true, freeze: true, max_nesting: MAX_NESTING + 1 }.freeze

      # Marks, in a symbol-path trie, the node whose String becomes a Symbol.
      LEAF = :leaf
      # Distinct `symbols` members whose tries a decode keeps.
      TRIE_CACHE_SIZE = 64
      # A trie cache miss (a cached trie may be nil).
      NO_TRIE = Object.new.freeze

      # Backslash escapes, consumed left to right (`\\` is one token).
      ESCAPE = /\\(?:u(\h{4})|(.))/m
      SIMPLE_ESCAPES = %w[" \\ / b f n r t].freeze
      # Text up to the first `/` outside string literals (atomic: linear time).
      SLASH_OUTSIDE_STRINGS = %r{\A(?>[^"/]+|"[^"\\]*(?:\\.[^"\\]*)*+")*+/}
      # May hold a number json 2.6 parses to ±Infinity (the Rust parser rejects
      # those): a 3-digit exponent, or 309+ mantissa digits. The terminator
      # keeps hex ids like "…4e123-…" from matching; a false positive only
      # costs a walk of the parsed document.
      HUGE_EXPONENT = /[eE][+-]?\d{3,}[,\]}\s]/
      LONG_MANTISSA = /\d{309}/
      private_constant :PARSE_OPTIONS, :LEAF, :TRIE_CACHE_SIZE, :NO_TRIE, :ESCAPE, :SIMPLE_ESCAPES, :SLASH_OUTSIDE_STRINGS,
                       :HUGE_EXPONENT, :LONG_MANTISSA

      # One broken rule: the reason a body is skipped.
      class Rejected < StandardError; end
      private_constant :Rejected

      class << self
        # @param bytes [String] the frame body (any encoding; bytes are UTF-8)
        # @return [Hash, nil] the 11 fact members (Symbol keys, deep-frozen,
        #   Symbols restored), valid input for `Fact.from_h` and `Fact.new`;
        #   nil when the body breaks a decode rule
        def decode(bytes)
          doc = parse!(bytes)
          doc.is_a?(Hash) ? members(doc, nil) : nil
        rescue Rejected
          nil
        end

        # {decode} straight into a fact: the same rules and members, given to
        # the pure Fact's private `assemble` instead of a members Hash (the
        # pure replay's path; doc/performance.md, "Pure path, third round").
        #
        # @api private
        # @param bytes [String] handed over: an unfrozen String is tagged
        #   UTF-8 in place rather than copied (the scanner's frame body, which
        #   nothing else reads)
        # @param fact_class [Class] the pure Fact
        # @return [Fact, nil] frozen; nil when the body breaks a decode rule
        def decode_fact(bytes, fact_class)
          doc = parse!(bytes.frozen? ? bytes : bytes.force_encoding(Encoding::UTF_8))
          doc.is_a?(Hash) ? members(doc, fact_class) : nil
        rescue Rejected
          nil
        end

        # @param bytes [String]
        # @return [Array(Hash, nil), Array(nil, String)] the members, or the
        #   reason the body is skipped ("store is missing", "not strict JSON",
        #   "nesting of 102 is too deep", …)
        def decode_with_reason(bytes)
          doc = parse!(bytes)
          raise Rejected, "top level is not an object" unless doc.is_a?(Hash)

          [members(doc, nil), nil]
        rescue Rejected => e
          [nil, e.message]
        end

        # Parses strict JSON whose top level is an object.
        #
        # @param bytes [String]
        # @return [Hash{Symbol=>Object}, nil] deep-frozen, Symbol keys; nil when
        #   the text is not strict RFC 8259 JSON, not UTF-8, nested deeper than
        #   {MAX_NESTING} + 1, holds a number that overflows a Float, or its
        #   top level is not an object
        def parse_object(bytes)
          doc = parse!(bytes)
          doc.is_a?(Hash) ? doc : nil
        rescue Rejected
          nil
        end

        # Trie of `symbols` paths: { "value" => { "status" => { LEAF => true } } }.
        # Malformed entries are ignored one by one; a non-Array member entirely.
        #
        # @param paths [Object] the `symbols` member
        # @return [Hash, nil]
        def symbol_trie(paths)
          return nil unless paths.is_a?(Array)

          root = {}
          paths.each do |path|
            next unless path.is_a?(Array) && DATA_FIELD_NAMES.include?(path.first)
            next unless (1...path.size).all? { |i| path[i].is_a?(String) || path[i].is_a?(Integer) }

            node = path.reduce(root) { |n, step| n[step] ||= {} }
            node[LEAF] = true
          end
          root.empty? ? nil : root
        end

        # Copy-on-write along the trie's paths of a frozen structure.
        #
        # @param obj [Object] a decoded (normalized) value
        # @param node [Hash, nil] the trie node of `obj`
        # @return [Object] `obj`, or a copy with the Strings at leaves as Symbols
        def apply_symbols(obj, node)
          return obj unless node
          return obj.to_sym if obj.is_a?(String) && node[LEAF]

          obj.is_a?(Hash) || obj.is_a?(Array) ? apply_to_container(obj, node) : obj
        end

        private

        def parse!(bytes)
          # A copy (one object; `String.new(bytes, encoding:)` makes three),
          # unless the bytes are already unfrozen UTF-8 ({decode_fact}'s).
          text = bytes.encoding == Encoding::UTF_8 && !bytes.frozen? ? bytes : bytes.dup.force_encoding(Encoding::UTF_8)
          raise Rejected, NOT_JSON unless text.valid_encoding? && strict_syntax?(text)

          doc = JSON.parse(text, PARSE_OPTIONS)
          raise Rejected, NOT_JSON if may_overflow?(text) && !all_finite?(doc)

          doc
        rescue JSON::NestingError => e
          raise Rejected, e.message
        rescue JSON::ParserError, EncodingError
          raise Rejected, NOT_JSON
        end

        # The member rules of doc/format.md, checked in the Rust half's order
        # so that a body breaking two rules is reported alike. The members
        # make a Hash, or with +fact_class+ the fact itself.
        #
        # Each member of the usual kind (a String id, a Float time, no valid
        # time, an Integer version) is taken without a call; any other goes
        # through its rule's method, which raises or converts as before.
        def members(doc, fact_class)
          id = doc[:id]
          id = optional_string(doc, :id) || SecureRandom.uuid.force_encoding(Encoding::UTF_8).freeze unless id.is_a?(String)
          store = doc[:store]
          store = store.is_a?(String) ? store.to_sym : store(doc)
          key = doc[:key]
          key = key.is_a?(String) ? -key : -key(doc)
          trie = cached_trie(doc[:symbols])
          value = apply_symbols(doc[:value], trie&.[]("value"))
          value_hash = doc[:value_hash]
          value_hash = optional_string(doc, :value_hash) unless value_hash.is_a?(String)
          causation = doc[:causation]
          causation = optional_string(doc, :causation) unless causation.nil? || causation.is_a?(String)
          transaction_time = doc[:transaction_time]
          unless transaction_time.is_a?(Float) && transaction_time.finite?
            transaction_time = time(doc, :transaction_time, :timestamp) || 0.0
          end
          valid_time = doc[:valid_time].nil? && doc[:term].nil? ? nil : time(doc, :valid_time, :term)
          schema_version = doc[:schema_version]
          schema_version = schema_version(doc) unless schema_version.is_a?(Integer)
          # `false` means none, as a falsy producer: does at Fact.build.
          producer = doc[:producer] ? apply_symbols(doc[:producer], trie&.[]("producer")) : nil
          derivation = doc[:derivation] ? apply_symbols(doc[:derivation], trie&.[]("derivation")) : nil
          if fact_class
            return fact_class.__send__(:assemble, id, store, key, value, value_hash, causation, transaction_time,
                                       valid_time, schema_version, producer, derivation)
          end

          {
            id: id, store: store, key: key, value: value, value_hash: value_hash, causation: causation,
            transaction_time: transaction_time, valid_time: valid_time, schema_version: schema_version,
            producer: producer, derivation: derivation
          }
        end

        # Bodies of a ledger mostly repeat a few `symbols` members (the same
        # fields hold Symbols fact after fact): their tries are kept, frozen,
        # keyed by the member, up to TRIE_CACHE_SIZE of them.
        def cached_trie(paths)
          return nil if paths.nil?

          cache = (@tries ||= {})
          # One lookup (a `symbols` member hashes as nested Arrays).
          cached = cache.fetch(paths, NO_TRIE)
          return cached unless cached.equal?(NO_TRIE)

          trie = deep_freeze(symbol_trie(paths))
          cache.clear if cache.size >= TRIE_CACHE_SIZE
          cache[paths] = trie if paths.frozen?
          trie
        end

        def deep_freeze(node)
          node&.each_value { |child| deep_freeze(child) if child.is_a?(Hash) }
          node&.freeze
        end

        def store(doc)
          raise Rejected, "store is missing" unless doc.key?(:store)

          store = doc[:store]
          raise Rejected, "store is not a string" unless store.is_a?(String)

          store.to_sym
        end

        def key(doc)
          raise Rejected, "key is missing" unless doc.key?(:key)

          key = doc[:key]
          # Integer#to_s is US-ASCII; a fact key is UTF-8 text on both paths.
          return key.to_s.force_encoding(Encoding::UTF_8) if key.is_a?(Integer)
          raise Rejected, "key is not a string or integer" unless key.is_a?(String)

          key
        end

        def optional_string(doc, name)
          value = doc[name]
          return value if value.nil? || value.is_a?(String)

          raise Rejected, "#{name} is not a string"
        end

        # @return [Float, nil] nil when neither name is given
        def time(doc, name, legacy)
          raw = doc[name]
          raw = doc[legacy] if raw.nil?
          return nil if raw.nil?

          float = raw.to_f if raw.is_a?(Integer) || raw.is_a?(Float)
          raise Rejected, "#{name} is not a number" unless float&.finite?

          float
        end

        def schema_version(doc)
          version = doc[:schema_version]
          return 1 if version.nil?
          raise Rejected, "schema_version is not an integer" unless version.is_a?(Integer)

          version
        end

        # Copy-on-write of one Hash or Array along the trie's steps.
        def apply_to_container(obj, node)
          copy = nil
          node.each do |step, child|
            at = container_slot(obj, step)
            next if at.nil?

            v = obj[at]
            nv = apply_symbols(v, child)
            (copy ||= obj.dup)[at] = nv unless nv.equal?(v)
          end
          copy ? copy.freeze : obj
        end

        # The Hash key (a String step, as a Symbol) or Array index a step names, if present.
        def container_slot(obj, step)
          if obj.is_a?(Hash)
            key = step.is_a?(String) && step.to_sym
            key && obj.key?(key) ? key : nil
          elsif step.is_a?(Integer) && step >= 0 && step < obj.size
            step
          end
        end

        # json 2.6 is laxer than RFC 8259 in three ways the Rust parser is not:
        # comments, unknown escapes (`\q`) and unpaired surrogate escapes.
        # Only bodies containing `\` or `/*` / `//` need the (regex) check.
        def strict_syntax?(text)
          return false if text.include?("\\") && !strict_escapes?(text)
          # Most bodies hold no `/` at all: one scan for it answers them.
          return true unless text.include?("/") && (text.include?("/*") || text.include?("//"))

          !text.match?(SLASH_OUTSIDE_STRINGS)
        end

        def strict_escapes?(text)
          high_end = nil # offset right after an unpaired high surrogate escape
          text.scan(ESCAPE) do
            m = Regexp.last_match
            if m[2]
              return false if high_end || !SIMPLE_ESCAPES.include?(m[2])

              next
            end
            code = m[1].hex
            if code.between?(0xDC00, 0xDFFF)
              return false unless high_end == m.begin(0)

              high_end = nil
            else
              return false if high_end
              high_end = m.end(0) if code.between?(0xD800, 0xDBFF)
            end
          end
          high_end.nil?
        end

        # Counting digits first is far cheaper than the regex on ordinary bodies.
        def may_overflow?(text)
          text.match?(HUGE_EXPONENT) || (text.count("0-9") >= 309 && text.match?(LONG_MANTISSA))
        end

        def all_finite?(obj)
          case obj
          when Hash then obj.each_value.all? { |v| all_finite?(v) }
          when Array then obj.all? { |v| all_finite?(v) }
          when Float then obj.finite?
          else true
          end
        end
      end
    end
  end
end
