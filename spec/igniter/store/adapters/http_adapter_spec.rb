# frozen_string_literal: true

RSpec.describe Igniter::Store::HTTPAdapter do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:interpreter) { Igniter::Store::Protocol.new(store) }
  let(:adapter) { described_class.new(interpreter: interpreter) }
  let(:app) { adapter.rack_app }

  def dispatch(payload, headers = {})
    body = payload.is_a?(String) ? payload : JSON.generate(payload)
    app.call(rack_env("POST", "/v1/dispatch", body: body, headers: headers))
  end

  describe "GET /v1/health" do
    it "returns the default ready payload as JSON" do
      status, headers, body = app.call(rack_env("GET", "/v1/health"))
      expect(status).to eq(200)
      expect(headers).to eq("Content-Type" => "application/json", "Content-Length" => body.join.bytesize.to_s)
      expect(JSON.parse(body.join)).to eq("protocol" => "igniter_store", "schema_version" => 1, "status" => "ready")
    end

    it "answers POST with 405" do
      response = app.call(rack_env("POST", "/v1/health"))
      expect(response[0]).to eq(405)
      expect(json_body(response)).to eq("error" => "Method not allowed")
    end

    it "answers HEAD with 405 (exact method match)" do
      expect(app.call(rack_env("HEAD", "/v1/health"))[0]).to eq(405)
    end

    it "uses the health provider when given" do
      adapter = described_class.new(interpreter: interpreter, health_provider: -> { { status: :draining, active_connections: 2 } })
      expect(json_body(adapter.rack_app.call(rack_env("GET", "/v1/health"))))
        .to eq("status" => "draining", "active_connections" => 2)
    end
  end

  describe "GET /v1/metadata" do
    it "returns the interpreter's metadata snapshot" do
      body = json_body(app.call(rack_env("GET", "/v1/metadata")))
      expect(body).to include("schema_version" => 1, "stores" => {}, "histories" => {})
    end

    it "answers POST with 405" do
      expect(app.call(rack_env("POST", "/v1/metadata"))[0]).to eq(405)
    end

    it "reflects a store registered with a keyword-style call" do
      interpreter.register(schema_version: 1, kind: :store, name: :tasks, key: :id, fields: [{ name: :label, type: :string }])
      expect(json_body(app.call(rack_env("GET", "/v1/metadata")))["stores"]).to have_key("tasks")
    end
  end

  describe "POST /v1/dispatch" do
    it "answers GET with 405" do
      expect(app.call(rack_env("GET", "/v1/dispatch"))[0]).to eq(405)
    end

    it "answers a non-JSON body with 400 Invalid JSON" do
      status, headers, body = dispatch("not json")
      expect(status).to eq(400)
      expect(headers["Content-Type"]).to eq("application/json")
      expect(JSON.parse(body.join)["error"]).to match(/\AInvalid JSON: /)
    end

    it "answers a body that is not valid UTF-8 with 400 Invalid JSON" do
      response = dispatch("\xFF\xFE{".b)
      expect([response[0], json_body(response)]).to eq([400, { "error" => "Invalid JSON: body is not valid UTF-8" }])
    end

    it "answers an empty body with 400 Invalid JSON" do
      expect(json_body(dispatch(""))["error"]).to match(/\AInvalid JSON/)
    end

    it "answers an unknown op with 404 and an envelope listing the valid ops" do
      status, _headers, body = dispatch(envelope(:teleport, request_id: "r9"))
      reply = JSON.parse(body.join)
      expect(status).to eq(404)
      expect(reply).to include("protocol" => "igniter_store", "request_id" => "r9", "status" => "error",
                               "error" => "Unknown or missing op: :teleport")
      expect(reply["valid_ops"]).to eq(Igniter::Store::Protocol::WireEnvelope::OPERATIONS.map(&:to_s))
    end

    it "answers a wrong protocol, a wrong schema_version and a non-object with 400 envelopes" do
      proto = dispatch(envelope(:read).merge(protocol: "other_proto"))
      version = dispatch(envelope(:read).merge(schema_version: 9))
      array = dispatch("[1,2]")
      expect([proto[0], json_body(proto)["error"]]).to eq([400, "Unknown protocol: :other_proto"])
      expect([version[0], json_body(version)["error"]]).to eq([400, "Unsupported schema_version: 9 (expected 1)"])
      expect([array[0], json_body(array)]).to match([400, include("status" => "error",
                                                                  "error" => "Invalid envelope: expected a JSON " \
                                                                             "object, got an array")])
    end

    it "answers a packet without a required field with 422 naming the field, not an internal error" do
      status, _headers, body = dispatch(envelope(:write, { key: "k", value: {} }, request_id: "w1"))
      expect([status, JSON.parse(body.join)])
        .to match([422, include("status" => "error", "request_id" => "w1",
                                "error" => 'write: the packet lacks the required field "store"')])
    end

    it "answers a server fault with 500 and an Internal error envelope" do
      broken = Igniter::Store::Protocol.new
      def broken.read(**) = raise(IOError, "disk went away")
      app = described_class.new(interpreter: broken).rack_app
      env = rack_env("POST", "/v1/dispatch", body: JSON.generate(envelope(:read, { store: "t", key: "k" })))
      status, _headers, body = app.call(env)
      expect([status, JSON.parse(body.join)["error"]]).to eq([500, "Internal error: disk went away"])
    end

    it "runs register, write, read, query and metadata_snapshot" do
      dispatch(envelope(:register_descriptor, { schema_version: 1, kind: "store", name: "tasks", key: "id",
                                                fields: [{ name: "title", type: "string" }] }))
      receipt = json_body(dispatch(envelope(:write, { store: "tasks", key: "t1", value: { title: "Ship", done: false } })))
      read = json_body(dispatch(envelope(:read, { store: "tasks", key: "t1" }, request_id: "r-1")))
      query = json_body(dispatch(envelope(:query, { store: "tasks", where: { done: false } })))
      meta = json_body(dispatch(envelope(:metadata_snapshot)))
      expect(receipt["result"]["status"]).to eq("accepted")
      expect(read).to include("request_id" => "r-1", "status" => "ok")
      expect(read["result"]).to eq("found" => true, "value" => { "title" => "Ship", "done" => false })
      expect(query["result"]["count"]).to eq(1)
      expect(meta["result"]["stores"]).to have_key("tasks")
    end

    it "serves sync_hub_profile" do
      dispatch(envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }))
      result = json_body(dispatch(envelope(:sync_hub_profile)))["result"]
      expect(result["kind"]).to eq("sync_hub_profile")
      expect(result["facts"].size).to eq(1)
    end

    it "answers an invalid packet value with 422 and no Ruby error-highlight snippets" do
      response = dispatch(envelope(:read, { store: 5, key: "k" }))
      error = json_body(response)["error"]
      expect(response[0]).to eq(422)
      expect(error).to eq("read: store: must be a Symbol or String, got 5")
      expect(error).not_to include("\n")
    end

    describe "max_body_bytes" do
      let(:adapter) { described_class.new(interpreter: interpreter, max_body_bytes: 128) }

      it "refuses from Content-Length alone with 413, without reading the body" do
        input = StringIO.new("x" * 10)
        expect(input).not_to receive(:read)
        env = rack_env("POST", "/v1/dispatch").merge("rack.input" => input, "CONTENT_LENGTH" => "1000000")
        status, headers, body = app.call(env)
        expect([status, headers["Content-Type"]]).to eq([413, "application/json"])
        expect(JSON.parse(body.join)).to eq("error" => "Request body exceeds 128 bytes")
      end

      it "refuses an undeclared oversized body with 413 and writes nothing" do
        payload = JSON.generate(envelope(:write, { store: "tasks", key: "t1", value: { pad: "x" * 200 } }))
        expect(dispatch(payload)[0]).to eq(413)
        expect(interpreter.read(store: :tasks, key: "t1")).to be_nil
      end

      it "still serves bodies within the limit" do
        expect(json_body(dispatch(envelope(:metadata_snapshot)))["status"]).to eq("ok")
      end

      it "rejects a non-positive limit at construction" do
        expect { described_class.new(interpreter: interpreter, max_body_bytes: 0) }
          .to raise_error(ArgumentError, /max_body_bytes/)
      end
    end

    describe "auth_token" do
      let(:adapter) { described_class.new(interpreter: interpreter, auth_token: "s3cret") }
      let(:write) { envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }) }

      it "answers a mutating op without the token with 401 and writes nothing" do
        status, headers, body = dispatch(write)
        expect([status, headers["Content-Type"], headers["WWW-Authenticate"], JSON.parse(body.join)])
          .to eq([401, "application/json", 'Bearer realm="igniter-ledger"',
                  { "error" => "Unauthorized: this request needs the write token (Authorization: Bearer <token>)" }])
        expect(interpreter.read(store: :tasks, key: "t1")).to be_nil
      end

      it "answers a wrong token with 401" do
        expect(dispatch(write, "HTTP_AUTHORIZATION" => "Bearer nope")[0]).to eq(401)
      end

      it "accepts the Bearer token for every mutating op" do
        auth = { "HTTP_AUTHORIZATION" => "Bearer s3cret" }
        expect(json_body(dispatch(write, auth))["status"]).to eq("ok")
        desc = envelope(:register_descriptor, { schema_version: 1, kind: "history", name: "events", key: "id" })
        expect(dispatch(desc)[0]).to eq(401)
        expect(dispatch(desc, auth)[0]).to eq(200)
      end

      it "keeps reads open" do
        read = dispatch(envelope(:read, { store: "tasks", key: "t1" }))
        expect([read[0], json_body(read)["status"]]).to eq([200, "ok"])
      end
    end
  end

  describe "routing" do
    it "answers unknown paths with 404 naming method and path" do
      get = app.call(rack_env("GET", "/v1/nope"))
      post = app.call(rack_env("POST", "/nope"))
      expect([get[0], json_body(get)]).to eq([404, { "error" => "Not found: GET /v1/nope" }])
      expect(json_body(post)["error"]).to match(/not found/i)
    end

    it "matches a mount and its sub-paths, not longer names" do
      expect(app.call(rack_env("GET", "/v1/health/"))[0]).to eq(200)
      expect(app.call(rack_env("POST", "/v1/dispatch/extra", body: JSON.generate(envelope(:metadata_snapshot))))[0])
        .to eq(200)
      expect(app.call(rack_env("GET", "/v1/healthz"))[0]).to eq(404)
      expect(app.call(rack_env("GET", "/V1/health"))[0]).to eq(404)
    end

    it "answers a raising provider with a 500 JSON error" do
      adapter = described_class.new(interpreter: interpreter, status_provider: -> { raise "provider down" })
      response = adapter.rack_app.call(rack_env("GET", "/v1/status"))
      expect([response[0], json_body(response)]).to eq([500, { "error" => "Internal error: provider down" }])
    end
  end

  describe "#bind_address" do
    it "defaults to loopback port 7300 (0.5.2 bound 0.0.0.0)" do
      expect(adapter.bind_address).to eq("127.0.0.1:7300")
    end

    it "rejects an unknown server kind" do
      expect { described_class.new(interpreter: interpreter, server: :thin) }.to raise_error(ArgumentError, /server/)
    end
  end
end
