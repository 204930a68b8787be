# frozen_string_literal: true

require_relative "console_helpers"

RSpec.describe Igniter::Ledger::Console::Auth, :console do
  let(:store) { Igniter::Store.memory.tap { |s| s.write(store: :tasks, key: "t1", value: { n: 1 }) } }
  let(:app) { Rack::URLMap.new("/ledger" => console_for(store, token: "s3cret")) }
  let(:mock) { Rack::MockRequest.new(app) }

  def sign_in(token, return_to: "/ledger/store?store=tasks")
    mock.post("/ledger/login", input: Rack::Utils.build_query("token" => token, "return_to" => return_to),
                               "CONTENT_TYPE" => "application/x-www-form-urlencoded")
  end

  it "answers a data request without credentials with 401 and how to authenticate" do
    response = mock.get("/ledger/api/stores")
    expect(response.status).to eq(401)
    expect(response.headers["WWW-Authenticate"]).to eq('Bearer realm="igniter-ledger console"')
    expect(JSON.parse(response.body)["error"])
      .to eq("authentication required: send Authorization: Bearer <token> or sign in at /ledger/login")
  end

  it "lets a matching bearer token through and refuses another" do
    expect(mock.get("/ledger/api/stores", "HTTP_AUTHORIZATION" => "Bearer s3cret").status).to eq(200)
    expect(mock.get("/ledger/api/stores", "HTTP_AUTHORIZATION" => "Bearer s3cret2").status).to eq(401)
    expect(mock.get("/ledger/api/stores", "HTTP_AUTHORIZATION" => "Basic s3cret").status).to eq(401)
  end

  it "answers a page request without credentials with the sign-in form, keeping the page to return to" do
    response = mock.get("/ledger/key?store=tasks&key=t1")
    expect(response.status).to eq(401)
    expect(response.body).to include(%(<form class="login" method="post" action="&#x2F;ledger&#x2F;login">),
                                      %(name="return_to" value="&#x2F;ledger&#x2F;key?store=tasks&amp;key=t1"))
  end

  it "signs in with the token: a session cookie (not the token) scoped to the console, then the page" do
    response = sign_in("s3cret")
    expect(response.status).to eq(303)
    expect(response.headers["Location"]).to eq("/ledger/store?store=tasks")
    cookie = response.headers["Set-Cookie"]
    expect(cookie).to start_with("igniter_ledger_console=")
    expect(cookie).to include("path=/ledger/", "HttpOnly").and(match(/SameSite=Strict/i))
    expect(cookie).not_to include("s3cret")
    session = cookie[/igniter_ledger_console=([^;]+)/, 1]
    expect(mock.get("/ledger/store?store=tasks", "HTTP_COOKIE" => "igniter_ledger_console=#{session}").status).to eq(200)
    expect(mock.get("/ledger/api/events", "HTTP_COOKIE" => "igniter_ledger_console=forged").status).to eq(401)
  end

  it "refuses a wrong token with the form again and no cookie" do
    response = sign_in("guess")
    expect(response.status).to eq(401)
    expect(response.headers["Set-Cookie"]).to be_nil
    expect(response.body).to include("That token is not the console's token.")
  end

  it "returns only to a page inside the console after signing in" do
    ["https://evil.example/", "//evil.example/ledger/", "/elsewhere", "/ledger/\\evil"].each do |target|
      expect(sign_in("s3cret", return_to: target).headers["Location"]).to eq("/ledger/")
    end
  end

  it "signs out by expiring the cookie" do
    response = mock.post("/ledger/logout")
    expect(response.status).to eq(303)
    expect(response.headers["Location"]).to eq("/ledger/login")
    expect(response.headers["Set-Cookie"]).to include("igniter_ledger_console=;").and include("max-age=0")
  end

  it "needs no sign-in when the console has no token" do
    open_app = console_for(store)
    expect(get(open_app, "/api/stores").status).to eq(200)
    expect(get(open_app, "/login").body).to include("This console has no token")
  end
end
