# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # The OpenAPI 3 document of the HTTP API, served at `/v1/openapi.json`:
      # every mount of {HTTPAdapter} (the web console only when it is on), and
      # for `POST /v1/dispatch` one request schema per envelope op, so tools
      # (schemathesis in our suite) can generate valid envelopes and check the
      # answers. Built once per process; the server's own address is not in
      # it (clients know where they fetched it from).
      module OpenApi
        # The OpenAPI version the document follows.
        VERSION = "3.0.3"

        # A point in time: seconds since the epoch or ISO-8601 with a zone.
        TIME = { oneOf: [{ type: :number }, { type: :string, format: "date-time" }],
                 description: "Seconds since the epoch, or an ISO-8601 time with a zone (2026-11-26T10:30:21Z)" }.freeze
        # A store, history or other name.
        NAME = { type: :string, description: "A store (or other) name" }.freeze
        # A key of a store.
        KEY = { type: :string }.freeze
        # A count of results.
        LIMIT = { type: :integer, minimum: 0 }.freeze
        # Any JSON value.
        ANY = {}.freeze
        # Any JSON object.
        OBJECT = { type: :object, additionalProperties: true }.freeze
        # Where a value holds Symbols (paths into it).
        SYMBOLS = { type: :array, items: { type: :array, items: { oneOf: [{ type: :string }, { type: :integer }] } },
                    description: "Paths of the Symbol values, as a fact body's `symbols` member (doc/format.md)" }.freeze

        # The JSON schema of each {Protocol::PacketFields} type.
        FIELD_SCHEMAS = {
          name: NAME, key: KEY, string: { type: :string }, time: TIME, valid_time: TIME, limit: LIMIT,
          integer: { type: :integer }, object: OBJECT, symbols: SYMBOLS, any: ANY,
          names: { oneOf: [{ type: :string }, { type: :array, items: { type: :string } }] }
        }.freeze

        # The one-line summary of each envelope op in the document.
        SUMMARIES = {
          register_descriptor: "Register an open-protocol descriptor (kind: store, history, access_path, …; a write op)",
          write: "Write a value under a key (a write op: needs the write token when one is set)",
          append: "Append an event to a history store under a generated key (write)",
          write_fact: "Write a fact packet (kind: fact; write)",
          read: "The latest value of a key, or as of a transaction time (ReadResult)",
          time_travel: "The value of a key as it was at transaction time `at`, optionally valid at `valid_at` (ReadResult)",
          history: "Every fact of a key (or of a store), in append order, within transaction-time bounds (HistoryResult)",
          fact_by_id: "One live fact, whole, by its id (FactByIdResult)",
          query: "Latest values of a store filtered by fields (where, order, limit) or by a registered scope (ListingResult)",
          resolve: "Records related to a key through a registered relation (ListingResult)",
          causation_chain: "The causation chain of a key: id, hash prefix, causation, time of each fact (ChainResult)",
          lineage: "The lineage of a key with its proof hash",
          fact_ref: "A reference to a live fact, without its value",
          metadata_snapshot: "Registered descriptors and schema",
          descriptor_snapshot: "Registered descriptors",
          observability_snapshot: "Storage, compaction and alert figures",
          stats: "Facts, keys and transaction-time span per store (StatsResult)",
          sync_hub_profile: "Everything a hub needs to mirror this ledger",
          replay: "Facts in commit order within time bounds, paged by cursor",
          storage_stats: "The backend's storage figures",
          segment_manifest: "A segmented backend's manifest (null for other backends)",
          compaction_activity: "Compaction and prune receipts"
        }.freeze

        module_function

        # @return [Hash] the document (Symbol keys; JSON.generate it)
        def document
          @document ||= build.freeze
        end

        # @param console [Boolean] describe the web console at `/ui`
        # @return [String] the document as JSON
        def json(console: false)
          @json ||= {}
          @json[console] ||= JSON.generate(console ? document : document.merge(paths: document[:paths].except("/ui")))
        end

        def build
          {
            openapi: VERSION,
            info: { title: "igniter-ledger HTTP API", version: Igniter::Ledger::VERSION,
                    description: "The open-protocol envelopes (POST /v1/dispatch) and the server's read surface. " \
                                 "Write ops need the write token, reads a read or write token when the server " \
                                 "sets one (Authorization: Bearer <token>); /v1/health, /v1/ready and this " \
                                 "document are open." },
            security: [{}, { bearer: [] }],
            paths: paths,
            components: {
              securitySchemes: { bearer: { type: :http, scheme: :bearer } },
              schemas: schemas
            }
          }
        end

        def paths
          {
            "/v1/dispatch" => { post: dispatch },
            "/v1/health" => get("Liveness: always 200 while the process serves", json_ok(OBJECT), open: true),
            "/v1/ready" => get("Readiness: 503 while starting or draining", json_ok(ref(:Ready)), open: true,
                               extra: { "503" => json_body("Not ready", ref(:Ready)) }),
            "/v1/status" => get("Observability snapshot: storage, recovery, connections, alerts", json_ok(OBJECT)),
            "/v1/metrics" => get("Metrics as JSON (0.5.2's keys and every labelled series)", json_ok(OBJECT)),
            "/metrics" => get("Metrics in the Prometheus text format",
                              { description: "Prometheus text", content: { "text/plain" => { schema: { type: :string } } } }),
            "/v1/events/recent" => get("Recent structured server events", json_ok(ref(:RecentEvents))),
            "/v1/events" => events,
            "/v1/metadata" => get("The interpreter's metadata snapshot", json_ok(OBJECT)),
            "/v1/compaction/activity" => compaction_activity,
            "/v1/openapi.json" => get("This document", json_ok(OBJECT), open: true),
            "/ui" => get("The web console (HTML; served when the console is on)",
                         { description: "HTML page", content: { "text/html" => { schema: { type: :string } } } })
          }
        end

        def dispatch
          {
            summary: "One open-protocol envelope in, its response envelope out",
            operationId: "dispatch",
            requestBody: { required: true, content: { "application/json" => { schema: ref(:Envelope) } } },
            responses: {
              "200" => json_body("The op's result", ref(:OkEnvelope)),
              "400" => json_body("Not JSON, not an envelope, or a wrong protocol / schema_version",
                                 { anyOf: [ref(:ErrorEnvelope), ref(:Error)] }),
              "401" => json_body("A missing or wrong token", ref(:Error)),
              "403" => json_body("A read token asking to write", ref(:Error)),
              "404" => json_body("An unknown op (valid_ops lists the known ones)", ref(:ErrorEnvelope)),
              "413" => json_body("A body over the size limit (8 MiB by default)", ref(:Error)),
              "422" => json_body("A packet lacking a field or with a bad one; error says which", ref(:ErrorEnvelope))
            }
          }
        end

        def events
          get("Server-Sent Events of the changefeed (fact_committed), resumable by cursor",
              { description: "An event stream", content: { "text/event-stream" => { schema: { type: :string } } } },
              params: [query_param("stores", { type: :string }, "Comma-separated store names"),
                       query_param("store", { type: :array, items: { type: :string } }, "Store names (repeatable)"),
                       query_param("cursor", { type: :integer }, "Resume after this event id"),
                       { name: "Last-Event-ID", in: :header, required: false, schema: { type: :string },
                         description: "Resume after this event id (wins over cursor)" }],
              extra: { "400" => json_body("A negative cursor", ref(:Error)),
                       "409" => json_body("The cursor is older than what the feed retains", OBJECT),
                       "503" => json_body("No changefeed, or too many streams open", ref(:Error)) })
        end

        def compaction_activity
          get("Compaction and prune activity, newest last",
              json_ok(OBJECT),
              params: [query_param("store", { type: :string }, "One store"),
                       query_param("kind", { type: :string }, "compaction or prune"),
                       query_param("since", TIME, "Only activity at or after this time"),
                       query_param("limit", { type: :integer, minimum: 0 }, "At most this many entries")],
              extra: { "400" => json_body("A malformed since or limit", ref(:Error)) })
        end

        def get(summary, ok, open: false, params: [], extra: {})
          responses = { "200" => ok }.merge(extra)
          responses["401"] = json_body("Reads need a token and none (or a wrong one) was sent", ref(:Error)) unless open
          operation = { summary: summary, responses: responses }
          operation[:parameters] = params unless params.empty?
          operation[:security] = [{}] if open
          { get: operation }
        end

        def query_param(name, schema, description)
          { name: name, in: :query, required: false, schema: schema, description: description }
        end

        def json_ok(schema)
          json_body("OK", schema)
        end

        def json_body(description, schema)
          { description: description, content: { "application/json" => { schema: schema } } }
        end

        def ref(name)
          { "$ref": "#/components/schemas/#{name}" }
        end

        def schemas
          op_schemas = Protocol::PacketFields::FIELDS.to_h do |op, fields|
            properties = fields.transform_values { |type| FIELD_SCHEMAS.fetch(type) }
            properties[:causation] = { type: :string, nullable: true } if properties.key?(:causation)
            required = Protocol::PacketFields::REQUIRED.fetch(op, [])
            summary = SUMMARIES.fetch(op)
            packet = { type: :object, properties: properties, additionalProperties: true }
            packet[:required] = required unless required.empty?
            envelope = { type: :object, description: summary,
                         properties: { protocol: { type: :string, enum: %w[igniter_store] },
                                       schema_version: { type: :integer, enum: [1] },
                                       request_id: { type: :string, nullable: true },
                                       op: { type: :string, enum: [op.to_s] }, packet: packet },
                         required: %i[protocol op] }
            [:"#{camel(op)}Envelope", envelope]
          end
          op_schemas.merge(
            Envelope: { oneOf: op_schemas.keys.map { |name| ref(name) },
                        discriminator: { propertyName: "op",
                                         mapping: Protocol::PacketFields::FIELDS.keys.to_h { |op| [op.to_s, "#/components/schemas/#{camel(op)}Envelope"] } } },
            OkEnvelope: { type: :object, required: %i[protocol schema_version status result],
                          properties: { protocol: { type: :string, enum: %w[igniter_store] },
                                        schema_version: { type: :integer }, request_id: ANY,
                                        status: { type: :string, enum: %w[ok] }, result: result_schema } },
            ErrorEnvelope: { type: :object, required: %i[protocol schema_version status error],
                             properties: { protocol: { type: :string, enum: %w[igniter_store] },
                                           schema_version: { type: :integer }, request_id: ANY,
                                           status: { type: :string, enum: %w[error] }, error: { type: :string },
                                           valid_ops: { type: :array, items: { type: :string } } } },
            Error: { type: :object, required: %i[error], properties: { error: { type: :string } } },
            Ready: { type: :object, required: %i[status], properties: { status: { type: :string, enum: %w[ready unavailable] } } },
            RecentEvents: { type: :object, required: %i[events count],
                            properties: { events: { type: :array, items: OBJECT }, count: { type: :integer, minimum: 0 } } },
            Fact: fact_schema,
            ReadResult: { type: :object, required: %i[value found],
                          properties: { value: ANY, found: { type: :boolean }, symbols: SYMBOLS } },
            HistoryResult: { type: :object, required: %i[facts count],
                             properties: { facts: { type: :array, items: ref(:Fact) }, count: { type: :integer } } },
            FactByIdResult: { type: :object, required: %i[found fact],
                              properties: { found: { type: :boolean }, fact: { allOf: [ref(:Fact)], nullable: true } } },
            ListingResult: { type: :object, required: %i[items results count],
                             properties: { items: { type: :array, items: OBJECT }, results: { type: :array },
                                           count: { type: :integer }, facts: { type: :array, items: ref(:Fact) } } },
            ChainResult: { type: :object, required: %i[chain count],
                           properties: { chain: { type: :array, items: OBJECT }, count: { type: :integer } } },
            StatsResult: { type: :object, required: %i[fact_count store_count key_count stores],
                           properties: { fact_count: { type: :integer }, store_count: { type: :integer },
                                         key_count: { type: :integer }, stores: { type: :array, items: OBJECT } } },
            Receipt: { type: :object, required: %i[status], properties: { status: { type: :string },
                                                                          errors: { type: :array }, warnings: { type: :array } } }
          )
        end

        # Which result each op answers is said by the op's schema in
        # components (ReadResult, HistoryResult, …); as a response schema
        # it is any of them (the snapshot ops answer objects of their own).
        def result_schema
          { anyOf: [ref(:ReadResult), ref(:HistoryResult), ref(:FactByIdResult), ref(:ListingResult),
                    ref(:ChainResult), ref(:StatsResult), ref(:Receipt), OBJECT, { type: :array },
                    { type: :object, nullable: true, description: "null: the backend has none (segment_manifest)" }] }
        end

        def fact_schema
          time = { type: :number, nullable: true }
          iso = { type: :string, format: "date-time", nullable: true }
          { type: :object, required: %i[id store key value_hash transaction_time],
            properties: { id: { type: :string }, store: { type: :string }, key: { type: :string }, value: ANY,
                          value_hash: { type: :string, nullable: true }, causation: { type: :string, nullable: true },
                          transaction_time: { type: :number }, valid_time: time, schema_version: { type: :integer },
                          producer: ANY, derivation: ANY, symbols: SYMBOLS,
                          transaction_time_iso: { type: :string, format: "date-time" }, valid_time_iso: iso } }
        end

        def camel(op)
          op.to_s.split("_").map(&:capitalize).join
        end
        private_class_method :build, :paths, :dispatch, :events, :compaction_activity, :get, :query_param,
                             :json_ok, :json_body, :ref, :schemas, :result_schema, :fact_schema, :camel
      end
    end
  end
end
