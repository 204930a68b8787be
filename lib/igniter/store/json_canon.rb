# frozen_string_literal: true

require "json"
require "digest"
require "securerandom"
require_relative "errors"

module Igniter
  module Store
    # The pure-Ruby data rules shared by both paths (the Rust core mirrors them
    # byte for byte; see doc/format.md and spec 01 §2):
    #
    # * {normalize}: the deep-frozen, key-symbolized copy a Fact stores;
    # * {canonical_json} / {value_hash}: what `value_hash` digests;
    # * {fact_body} / {decode_fact_body}: the WAL/snapshot record of a fact;
    # * {build_attributes} / {fact_attributes}: the members of `Fact.build` /
    #   `Fact.from_h`, so either Fact class can be filled from them.
    #
    # JSON text is produced by `JSON.generate` (C) from a transformed structure
    # that holds only Hashes with String keys, Arrays, Strings, Integers,
    # Floats, true/false/nil: that gives 0.5.2's exact bytes and never calls a
    # `to_json` that an application may have redefined.
    module JsonCanon
      # Deepest container nesting a value may have (outermost container = 1).
      MAX_NESTING = 100

      # Fact members, in `to_h` / WAL order.
      FIELDS = %i[id store key value value_hash causation transaction_time
                  valid_time schema_version producer derivation].freeze

      # Members that hold arbitrary JSON-like data.
      DATA_FIELDS = %i[value producer derivation].freeze
      DATA_FIELD_NAMES = DATA_FIELDS.map(&:name).freeze
      private_constant :DATA_FIELD_NAMES

      INVALID_UTF8 = "source sequence is illegal/malformed utf-8"

      # A fact body is a value one level down, hence one more level.
      PARSE_OPTIONS = { symbolize_names: true, freeze: true, max_nesting: MAX_NESTING + 1 }.freeze
      GENERATE_OPTIONS = { max_nesting: false }.freeze

      # Marks, in a symbol-path trie, the node whose String becomes a Symbol.
      LEAF = :leaf
      private_constant :LEAF, :PARSE_OPTIONS, :GENERATE_OPTIONS

      # Backslash escapes, consumed left to right (`\\` is one token).
      ESCAPE = /\\(?:u(\h{4})|(.))/m
      SIMPLE_ESCAPES = %w[" \\ / b f n r t].freeze
      # Text up to the first `/` outside string literals (atomic: linear time).
      SLASH_OUTSIDE_STRINGS = %r{\A(?>[^"/]+|"[^"\\]*(?:\\.[^"\\]*)*+")*+/}
      # May hold a number json 2.6 parses to ±Infinity (serde_json rejects
      # those): a 3-digit exponent, or 309+ mantissa digits. The terminator
      # keeps hex ids like "…4e123-…" from matching; a false positive only
      # costs a walk of the parsed document.
      HUGE_EXPONENT = /[eE][+-]?\d{3,}[,\]}\s]/
      LONG_MANTISSA = /\d{309}/
      private_constant :ESCAPE, :SIMPLE_ESCAPES, :SLASH_OUTSIDE_STRINGS, :HUGE_EXPONENT, :LONG_MANTISSA

      class << self
        # Deep copy with the normalization `Fact.build` applies to value,
        # producer and derivation (spec 01 §2.3): Hash keys become Symbols
        # (Strings via `to_sym`, others via `to_s.to_sym`) at every depth,
        # insertion order kept; containers are new and frozen; unfrozen
        # scalars are replaced by frozen dups, so the caller's objects are
        # never frozen or mutated.
        #
        # @param obj [Object]
        # @param validate [Boolean] false skips the checks below (`from_h`)
        # @return [Object] deep-frozen copy
        # @raise [NonFiniteNumberError] NaN or ±Infinity anywhere
        # @raise [InvalidEncodingError] a String (or key) that is not UTF-8-able
        # @raise [JSON::NestingError] containers nested deeper than {MAX_NESTING}
        def normalize(obj, validate: true)
          deep_normalize(obj, validate ? 1 : nil)
        end

        # Canonical JSON of a normalized value (spec 01 §2.4): keys as
        # Strings, sorted bytewise at every depth (last wins on a collision);
        # Symbols and other objects as their name / `to_s`; no whitespace.
        #
        # @param value [Object] usually the output of {normalize}
        # @return [String] UTF-8 JSON text
        def canonical_json(value)
          JSON.generate(canonical(value), GENERATE_OPTIONS)
        end

        # @param value [Object] usually the output of {normalize}
        # @return [String] lowercase hex SHA-256 of {canonical_json}
        def value_hash(value)
          Digest::SHA256.hexdigest(canonical_json(value))
        end

        # The WAL / snapshot body of a fact (doc/format.md): its 11 members in
        # order, data members in insertion order, plus a trailing `symbols`
        # member listing where Symbol values stood (absent when there are none,
        # so such bodies are byte-identical to 0.5.2's).
        #
        # @param fact [#id, #store, #key, ...] any Fact
        # @return [String] UTF-8 JSON text
        def fact_body(fact)
          symbols = []
          path = []
          doc = {
            "id" => plain_string(fact.id),
            "store" => plain_string(fact.store),
            "key" => plain_string(fact.key),
            "value" => plain_field(fact.value, "value", path, symbols),
            "value_hash" => plain_string(fact.value_hash),
            "causation" => plain_string(fact.causation),
            "transaction_time" => fact.transaction_time,
            "valid_time" => fact.valid_time,
            "schema_version" => fact.schema_version,
            "producer" => plain_field(fact.producer, "producer", path, symbols),
            "derivation" => plain_field(fact.derivation, "derivation", path, symbols)
          }
          doc["symbols"] = symbols unless symbols.empty?
          JSON.generate(doc, GENERATE_OPTIONS)
        end

        # Decodes a WAL / snapshot fact body under the rules of doc/format.md.
        #
        # @param bytes [String] the frame body (any encoding; bytes are UTF-8)
        # @return [Hash, nil] the 11 fact members (Symbol keys, normalized,
        #   deep-frozen, Symbols restored), valid input for `Fact.from_h` and
        #   for `Fact.new`; nil when the body breaks a decode rule
        def decode_fact_body(bytes)
          doc = parse_object(bytes)
          doc && decode_record(doc)
        end

        # Parses strict JSON whose top level is an object.
        #
        # @param bytes [String]
        # @return [Hash{Symbol=>Object}, nil] deep-frozen, Symbol keys; nil when
        #   the text is not strict RFC 8259 JSON, not UTF-8, nested deeper than
        #   {MAX_NESTING} + 1, holds a number that overflows a Float, or its
        #   top level is not an object
        def parse_object(bytes)
          text = String.new(bytes, encoding: Encoding::UTF_8)
          return nil unless text.valid_encoding? && strict_syntax?(text)

          doc = JSON.parse(text, PARSE_OPTIONS)
          return nil unless doc.is_a?(Hash)
          return nil if may_overflow?(text) && !all_finite?(doc)

          doc
        rescue JSON::ParserError, EncodingError
          nil
        end

        # Members of a new fact: the whole of `Fact.build` except allocation
        # (spec 01 §2.2). Validates everything before returning.
        #
        # @return [Hash{Symbol=>Object}] the 11 members in {FIELDS} order
        # @raise [ArgumentError] unknown or missing keywords
        # @raise [NonFiniteNumberError, InvalidEncodingError, JSON::NestingError]
        def build_attributes(store:, key:, value:, causation: nil, valid_time: nil, term: nil,
                             schema_version: 1, producer: nil, derivation: nil)
          value = normalize(value)
          {
            id: SecureRandom.uuid.freeze,
            store: store_symbol(store),
            key: fact_key(key),
            value: value,
            value_hash: value_hash(value).freeze,
            causation: causation.nil? ? nil : fact_string(causation),
            transaction_time: Process.clock_gettime(Process::CLOCK_REALTIME),
            valid_time: valid_time(valid_time, term),
            schema_version: schema_version.to_i,
            producer: producer ? normalize(producer) : nil,
            derivation: derivation ? normalize(derivation) : nil
          }
        end

        # Members of a restored fact: the whole of `Fact.from_h` except
        # allocation (spec 01 §2.5 Target). Stored fields are kept verbatim and
        # nothing is validated or rehashed; data members are normalized and
        # frozen like {build_attributes}, and a `symbols:` member (doc/format.md)
        # turns the Strings at its paths back into Symbols.
        #
        # @param hash [Hash] members with String or Symbol keys; legacy
        #   `timestamp:` / `term:` accepted
        # @return [Hash{Symbol=>Object}] the 11 members in {FIELDS} order
        # @raise [KeyError] when `store` is missing
        def fact_attributes(hash)
          h = hash.transform_keys { |k| k.is_a?(Symbol) ? k : k.to_s.to_sym }
          store = h.fetch(:store).to_sym
          trie = symbol_trie(h[:symbols])
          id = h[:id]
          schema_version = h[:schema_version]
          {
            id: id.nil? ? SecureRandom.uuid.freeze : frozen(id.to_s),
            store: store,
            key: -key_string(h[:key]),
            value: restore_data(h[:value], trie, "value"),
            value_hash: frozen(h[:value_hash]),
            causation: frozen(h[:causation]),
            transaction_time: (h[:transaction_time] || h[:timestamp])&.to_f || 0.0,
            valid_time: (h[:valid_time] || h[:term])&.to_f,
            schema_version: schema_version.nil? ? 1 : schema_version.to_i,
            producer: h[:producer] ? restore_data(h[:producer], trie, "producer") : nil,
            derivation: h[:derivation] ? restore_data(h[:derivation], trie, "derivation") : nil
          }
        end

        # @param valid_time [#to_f, nil]
        # @param term [#to_f, nil] legacy alias, used when valid_time is nil
        # @return [Float, nil] `valid_time.to_f`, else `term.to_f` if truthy, else nil
        # @raise [NonFiniteNumberError] when the result is NaN or ±Infinity
        def valid_time(valid_time, term = nil)
          source = valid_time.nil? ? term : valid_time
          source ? finite!(source.to_f) : nil
        end

        # The stored form of a fact key: `key.to_s` as frozen (interned) UTF-8.
        #
        # @raise [InvalidEncodingError]
        def fact_key(key)
          -check_string(key_string(key))
        end

        # `key.to_s`, transcoded to UTF-8 when it is in another encoding, so
        # that keys compare equal whatever encoding the caller used. Not
        # validated: also meant for lookups.
        #
        # @return [String]
        def key_string(key)
          str = key.is_a?(String) ? key : key.to_s
          str.encoding == Encoding::UTF_8 ? str : utf8(str)
        end

        # @param store [String, Symbol]
        # @return [Symbol]
        def store_symbol(store)
          store.is_a?(String) ? check_string(store).to_sym : store.to_sym
        end

        private

        def deep_normalize(obj, depth)
          case obj
          when Hash
            check_depth(depth) if depth
            inner = depth && depth + 1
            out = {}
            obj.each { |k, v| out[normalize_key(k, depth)] = deep_normalize(v, inner) }
            out.freeze
          when Array
            check_depth(depth) if depth
            inner = depth && depth + 1
            obj.map { |v| deep_normalize(v, inner) }.freeze
          when String
            check_string(obj) if depth
            obj.frozen? ? obj : obj.dup.freeze
          when Float
            depth ? finite!(obj) : obj
          when Symbol, Integer, true, false, nil
            obj
          else
            # Kept as the object itself (its JSON form is `to_s`), so that
            # to_s must be encodable and stable too.
            stable_text(obj) if depth
            obj.frozen? ? obj : obj.dup.freeze
          end
        end

        def normalize_key(key, validate)
          case key
          when Symbol then key
          when String then validate ? check_string(key).to_sym : key.to_sym
          else
            validate ? stable_text(key).to_sym : key.to_s.to_sym
          end
        end

        # Text of an object outside the JSON model, refused when it carries a
        # memory address (`#<Proc:0x000055d…>`): see UnrepresentableValueError.
        def stable_text(obj)
          text = check_string(obj.to_s)
          if text.match?(ADDRESS_TEXT)
            raise UnrepresentableValueError, "#{obj.class} value has no JSON form: its text carries a memory address"
          end

          text
        end

        ADDRESS_TEXT = /0x\h{16}/

        def check_depth(depth)
          raise JSON::NestingError, "nesting of #{depth} is too deep" if depth > MAX_NESTING
        end

        # @return [String] `str` itself if UTF-8, else its UTF-8 transcoding
        # @raise [InvalidEncodingError]
        def check_string(str)
          if str.encoding == Encoding::UTF_8
            raise InvalidEncodingError, INVALID_UTF8 unless str.valid_encoding?

            str
          else
            utf8(str)
          end
        end

        # UTF-8 copy of a String in another encoding. US-ASCII and binary
        # Strings qualify only when they are pure ASCII (binary bytes have no
        # meaning to transcode from).
        def utf8(str)
          enc = str.encoding
          return str if enc == Encoding::UTF_8

          if enc == Encoding::US_ASCII || enc == Encoding::BINARY
            raise InvalidEncodingError, INVALID_UTF8 unless str.ascii_only?

            return str.dup.force_encoding(Encoding::UTF_8)
          end
          str.encode(Encoding::UTF_8)
        rescue EncodingError
          raise InvalidEncodingError, INVALID_UTF8
        end

        def finite!(float)
          return float if float.finite?

          name = if float.nan? then "NaN"
                 elsif float.positive? then "Infinity"
                 else "-Infinity"
                 end
          raise NonFiniteNumberError, "#{name} not allowed in JSON"
        end

        def fact_string(obj)
          frozen(check_string(obj.to_s))
        end

        def frozen(obj)
          obj.nil? || obj.frozen? ? obj : obj.dup.freeze
        end

        # --- canonical / plain JSON structures ---------------------------

        def canonical(obj)
          case obj
          when Hash
            named = {}
            obj.each { |k, v| named[plain_key(k)] = v } # last wins on collision
            out = {}
            named.keys.sort!.each { |k| out[k] = canonical(named[k]) }
            out
          when Array then obj.map { |v| canonical(v) }
          when String then utf8(obj)
          when Symbol then utf8(obj.name)
          when Integer, Float, true, false, nil then obj
          else utf8(obj.to_s)
          end
        end

        def plain_key(key)
          utf8(key.is_a?(Symbol) ? key.name : key.to_s)
        end

        def plain_string(obj)
          obj.nil? ? nil : utf8(obj.is_a?(Symbol) ? obj.name : obj.to_s)
        end

        def plain_field(obj, field, path, symbols)
          path.push(field)
          plain(obj, path, symbols)
        ensure
          path.pop
        end

        # Insertion-order JSON structure; records the path of every Symbol
        # value in depth-first document order.
        def plain(obj, path, symbols)
          case obj
          when Hash
            out = {}
            obj.each do |k, v|
              name = plain_key(k)
              path.push(name)
              out[name] = plain(v, path, symbols)
              path.pop
            end
            out
          when Array
            obj.each_with_index.map do |v, i|
              path.push(i)
              plain(v, path, symbols).tap { path.pop }
            end
          when String then utf8(obj)
          when Symbol
            symbols << path.dup
            utf8(obj.name)
          when Integer, Float, true, false, nil then obj
          else utf8(obj.to_s)
          end
        end

        # --- decoding ------------------------------------------------------

        # json 2.6 is laxer than RFC 8259 in three ways serde_json is not:
        # comments, unknown escapes (`\q`) and unpaired surrogate escapes.
        # Only bodies containing `\` or `/*` / `//` need the (regex) check.
        def strict_syntax?(text)
          return false if text.include?("\\") && !strict_escapes?(text)
          return true unless text.include?("/*") || text.include?("//")

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

        # The member rules of doc/format.md; nil = skip the record.
        def decode_record(doc)
          store = doc[:store]
          return nil unless store.is_a?(String)

          key = doc[:key]
          key = key.to_s if key.is_a?(Integer)
          return nil unless key.is_a?(String)

          id, value_hash, causation = doc.values_at(:id, :value_hash, :causation)
          return nil unless [id, value_hash, causation].all? { |s| s.nil? || s.is_a?(String) }

          tt = decode_time(doc, :transaction_time, :timestamp, 0.0)
          vt = decode_time(doc, :valid_time, :term, nil)
          return nil if tt == false || vt == false

          schema_version = doc[:schema_version]
          schema_version = 1 if schema_version.nil?
          return nil unless schema_version.is_a?(Integer)

          trie = symbol_trie(doc[:symbols])
          {
            id: id || SecureRandom.uuid.freeze,
            store: store.to_sym,
            key: -key,
            value: apply_symbols(doc[:value], trie&.[]("value")),
            value_hash: value_hash,
            causation: causation,
            transaction_time: tt,
            valid_time: vt,
            schema_version: schema_version,
            producer: doc[:producer] ? apply_symbols(doc[:producer], trie&.[]("producer")) : nil,
            derivation: doc[:derivation] ? apply_symbols(doc[:derivation], trie&.[]("derivation")) : nil
          }
        end

        # @return [Float, nil, false] false = not a (finite) number: skip
        def decode_time(doc, name, legacy, default)
          raw = doc[name]
          raw = doc[legacy] if raw.nil?
          return default if raw.nil?
          return false unless raw.is_a?(Integer) || raw.is_a?(Float)

          float = raw.to_f
          float.finite? ? float : false
        end

        def restore_data(obj, trie, field)
          apply_symbols(normalize(obj, validate: false), trie&.[](field))
        end

        # Trie of the `symbols` paths: { "value" => { "status" => { LEAF => true } } }.
        # Malformed entries are ignored one by one; a non-Array member entirely.
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
        def apply_symbols(obj, node)
          return obj unless node
          return obj.to_sym if obj.is_a?(String) && node[LEAF]

          case obj
          when Hash
            copy = nil
            node.each do |step, child|
              next unless step.is_a?(String)

              k = step.to_sym
              next unless obj.key?(k)

              v = obj[k]
              nv = apply_symbols(v, child)
              (copy ||= obj.dup)[k] = nv unless nv.equal?(v)
            end
            copy ? copy.freeze : obj
          when Array
            copy = nil
            node.each do |step, child|
              next unless step.is_a?(Integer) && step >= 0 && step < obj.size

              v = obj[step]
              nv = apply_symbols(v, child)
              (copy ||= obj.dup)[step] = nv unless nv.equal?(v)
            end
            copy ? copy.freeze : obj
          else
            obj
          end
        end
      end
    end
  end
end
