#!/usr/bin/env python3
"""A second, independent relying party: Python's Authlib against MyPatientPortal.

Everything comes from discovery (``<issuer>/.well-known/openid-configuration``). The script plays
both the app (Authlib's ``OAuth2Session``: authorization URL with PKCE S256, code exchange,
refresh, revocation, introspection; id_token checks with Authlib's ``CodeIDToken`` claims over a
JWS verified with the provider's JWKS, exactly as Authlib's own OpenID client does) and the
patient (a ``requests`` session with cookies that reads the HTML login and consent forms and
submits them with their hidden CSRF fields, like a browser without JavaScript).

Checks, in order:
  1. discovery and JWKS; the document's issuer is the issuer;
  2. sign-in with the login and consent forms; the redirect's state and iss (RFC 9207);
  3. code exchange; the id_token: signature (JWKS), iss, aud, exp, iat, nonce, azp, at_hash, and
     its algorithm: ID_TOKEN_ALG (default RS256; ES256 for a client registered with
     id_token_signed_response_alg=ES256, whose key must be a P-256 key of the JWKS);
  4. userinfo: same sub as the id_token, the email released by the email scope;
  5. refresh: a new refresh token (rotation); the old one is refused (invalid_grant), and that reuse
     revokes the grant, so the new one is inactive too (RFC 9700 §4.14.2);
  6. a second sign-in in the same browser (live session), then revocation of its refresh token:
     introspection reports it and its access token inactive, and refreshing with it fails;
  7. acr: the password sign-ins carry acr loa:1 and amr ["pwd"]; a sign-in asking
     acr_values=loa:2 (listed in discovery) makes the patient set up an authenticator app (the code
     computed here from the otpauth:// URI the page shows) and returns acr loa:2, amr with
     pwd, otp and mfa; a later loa:2 request in the same browser asks nothing more.

Run by ``tests/tests/e2e_second_rp.rs`` (``make test``), which registers the client and patient and
passes them in the environment: PORTAL_ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
PATIENT_EMAIL, PATIENT_PASSWORD, and optionally ID_TOKEN_ALG. Exits 0 when every check passed, 1 with a message otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
import re
import secrets
import struct
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

ISSUER = os.environ.get("PORTAL_ISSUER", "").rstrip("/")
# Authlib refuses plain http unless told otherwise; the local portal is http on loopback only
# (RFC 8252 allows that), so the exception is limited to it.
if urlsplit(ISSUER).hostname in ("127.0.0.1", "localhost", "::1"):
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session, OAuthError  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import KeySet  # noqa: E402
from joserfc.jws import JWSRegistry  # noqa: E402

SCOPE = "openid profile email offline_access profile_read"
LOA1 = "urn:mypatientportal:loa:1"
LOA2 = "urn:mypatientportal:loa:2"
TIMEOUT = 300  # seconds per request: under cargo lambda watch a function may start on first use
MAX_HOPS = 10


class Failure(Exception):
    """A check that did not hold."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def step(message: str) -> None:
    print(f"[authlib-rp] {message}", flush=True)


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise Failure(f"{name} is not set (run through tests/tests/e2e_second_rp.rs / make test)")
    return value


class FormParser(HTMLParser):
    """The first form of a page: its action and every named input's value."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.in_form = False
        self.seen_form = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and not self.seen_form:
            self.in_form = self.seen_form = True
            self.action = attributes.get("action") or ""
        elif tag == "input" and self.in_form and attributes.get("name"):
            if attributes.get("type") == "hidden":
                self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def page_text(html: str) -> str:
    """The page's visible text, roughly, for failure messages."""

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts: list[str] = []
            self.skip = False

        def handle_starttag(self, tag, attrs):
            self.skip = tag in ("style", "script", "title")

        def handle_endtag(self, tag):
            self.skip = False

        def handle_data(self, data):
            if not self.skip and data.strip():
                self.parts.append(data.strip())

    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts)[:500]


def totp(secret: bytes, at: float) -> str:
    """RFC 6238 (HMAC-SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    mac = hmac.new(secret, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def element_text(document: str, element_id: str) -> str:
    marker = f'id="{element_id}"'
    start = document.index(">", document.index(marker)) + 1
    return document[start:document.index("<", start)].strip()


class Patient:
    """A browser without JavaScript: cookies, redirects followed one by one, forms submitted."""

    def __init__(self, email: str, password: str, redirect_uri: str) -> None:
        self.http = requests.Session()
        self.email = email
        self.password = password
        self.redirect_uri = redirect_uri
        self.pages: list[str] = []
        self.totp_secret: bytes | None = None

    def _to_app(self, url: str) -> bool:
        target, app = urlsplit(url), urlsplit(self.redirect_uri)
        return (target.scheme, target.netloc, target.path) == (app.scheme, app.netloc, app.path)

    def _follow(self, response: requests.Response) -> tuple[str, requests.Response | None]:
        """Follows redirects inside the portal; returns (url, page) or (app URL, None)."""
        url = response.url
        for _ in range(MAX_HOPS):
            if response.status_code not in (301, 302, 303, 307, 308):
                return url, response
            location = response.headers.get("Location")
            check(location is not None, f"{url} redirected without a Location")
            url = urljoin(url, location)
            if self._to_app(url):
                return url, None
            check(url.startswith(ISSUER + "/"), f"redirected outside the portal and the app: {url}")
            response = self.http.get(url, allow_redirects=False, timeout=TIMEOUT)
        raise Failure(f"more than {MAX_HOPS} redirects inside the portal")

    def _submit(self, url: str, html: str, extra: dict[str, str]) -> requests.Response:
        form = FormParser()
        form.feed(html)
        check(form.action is not None, f"no form on {url}")
        check("csrf_token" in form.fields, f"no hidden csrf_token field on {url}")
        fields = dict(form.fields)
        fields.update(extra)
        return self.http.post(
            urljoin(url, form.action), data=fields, allow_redirects=False, timeout=TIMEOUT
        )

    def register(self, **fields: str) -> None:
        """Fills in `/account/register` as a patient would (no app waiting)."""
        url = f"{ISSUER}/account/register"
        page = self.http.get(url, timeout=TIMEOUT)
        check(page.status_code == 200, f"{url} answered {page.status_code}")
        extra = {"email": self.email, "password": self.password, **fields}
        url, page = self._follow(self._submit(url, page.text, extra))
        check(page is not None and page.status_code == 200, f"registration ended at {url}")

    def confirm(self, link: str) -> None:
        """Opens the mailed link (a GET only shows a button) and presses the button."""
        page = self.http.get(link, allow_redirects=False, timeout=TIMEOUT)
        check(page.status_code == 200, f"the mailed link answered {page.status_code}")
        url, page = self._follow(self._submit(link, page.text, {}))
        check(page is not None and page.status_code == 200, f"confirming ended at {url}")

    def authorize(self, authorization_url: str) -> str:
        """Signs in and allows as the pages come; returns the redirect URL back to the app."""
        response = self.http.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
        signed_in = consented = False
        while True:
            url, page = self._follow(response)
            if page is None:
                return url
            check(page.status_code == 200, f"{url} answered {page.status_code}: {page_text(page.text)}")
            path = urlsplit(url).path
            self.pages.append(path)
            if path == "/oauth/login" and not signed_in:
                signed_in = True
                response = self._submit(
                    url, page.text, {"email": self.email, "password": self.password}
                )
            elif path == "/oauth/consent" and not consented:
                consented = True
                check("Allow" in page.text and "Deny" in page.text, "consent page without buttons")
                response = self._submit(url, page.text, {"decision": "allow"})
            elif path == "/account/mfa/totp" and 'id="totp-uri"' in page.text:
                uri = html.unescape(element_text(page.text, "totp-uri"))
                query = parse_qs(urlsplit(uri).query)
                check(uri.startswith("otpauth://totp/"), f"setup page without a TOTP URI: {uri}")
                self.totp_secret = base64.b32decode(query["secret"][0])
                check(len(self.totp_secret) == 20, "the TOTP secret is not 160 bits")
                response = self._submit(url, page.text, {"code": totp(self.totp_secret, time.time())})
            elif path == "/account/mfa/totp" and 'id="recovery-codes"' in page.text:
                form = FormParser()
                form.feed(page.text)
                response = self.http.get(
                    urljoin(url, form.action), params=form.fields, allow_redirects=False,
                    timeout=TIMEOUT,
                )
            elif path == "/oauth/mfa" and self.totp_secret is not None:
                # The next step's code: the setup used the current one, each is accepted once.
                code = totp(self.totp_secret, time.time() + 30)
                response = self._submit(url, page.text, {"code": code})
            else:
                raise Failure(f"unexpected page {url}: {page_text(page.text)}")


def mailed_link(outbox: str, to: str, path: str) -> str:
    """The link to `path` in the newest `.eml` in the outbox addressed to `to`."""
    mails = []
    for name in os.listdir(outbox):
        if name.endswith(".eml"):
            full = os.path.join(outbox, name)
            with open(full, encoding="utf-8") as mail:
                text = mail.read().replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
            if f"To: <{to}>" in text and path in text:
                mails.append((os.path.getmtime(full), text))
    check(bool(mails), f"no mail to {to} with a link to {path} in {outbox}")
    text = max(mails)[1]
    found = re.search(r'https?://[^\s"<>]*' + re.escape(path) + r'\?token=[^\s"<>]+', text)
    check(found is not None, f"no {path} link in the mail to {to}")
    return html.unescape(found.group(0))


class RelyingParty:
    def __init__(self) -> None:
        self.client_id = setting("CLIENT_ID")
        self.redirect_uri = setting("REDIRECT_URI")
        step(f"discovery from {ISSUER}")
        response = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=TIMEOUT)
        check(response.status_code == 200, f"discovery answered {response.status_code}")
        self.meta = response.json()
        check(self.meta.get("issuer") == ISSUER, f"discovery issuer {self.meta.get('issuer')!r}")
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "introspection_endpoint",
        ):
            check(bool(self.meta.get(name)), f"discovery has no {name}")
        check(
            "S256" in self.meta.get("code_challenge_methods_supported", []),
            "discovery does not list PKCE S256",
        )
        jwks = requests.get(self.meta["jwks_uri"], timeout=TIMEOUT)
        check(jwks.status_code == 200, f"JWKS answered {jwks.status_code}")
        self.keys = KeySet.import_key_set(jwks.json())
        self.algorithms = self.meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        self.session = OAuth2Session(
            client_id=self.client_id,
            client_secret=setting("CLIENT_SECRET"),
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def sign_in(self, patient: Patient, **extra: str) -> dict:
        verifier = generate_token(48)
        nonce = generate_token(20)
        url, state = self.session.create_authorization_url(
            self.meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
        )
        check("code_challenge_method=S256" in url, "Authlib did not add the PKCE challenge")
        redirect = patient.authorize(url)
        params = parse_qs(urlsplit(redirect).query)
        check("error" not in params, f"the portal answered with an error: {redirect}")
        check(params.get("state") == [state], "the redirect's state is not ours")
        check(params.get("iss") == [ISSUER], f"the redirect's iss is {params.get('iss')} (RFC 9207)")
        token = self.session.fetch_token(
            self.meta["token_endpoint"],
            authorization_response=redirect,
            code_verifier=verifier,
            state=state,
        )
        for name in ("access_token", "refresh_token", "id_token"):
            check(name in token, f"the token response has no {name}")
        check(token.get("token_type", "").lower() == "bearer", "token_type is not Bearer")
        claims = self.verify_id_token(token, nonce)
        step(f"id_token verified: sub={claims['sub']} (signature, iss, aud, exp, nonce, at_hash)")
        return {"token": token, "claims": claims}

    def verify_id_token(self, token: dict, nonce: str | None) -> CodeIDToken:
        expected = os.environ.get("ID_TOKEN_ALG", "RS256")
        check(expected in self.algorithms, f"discovery does not list {expected} for id_tokens")
        # Only the registered algorithm: an id_token in another one is refused, not just verified.
        decoded = jwt.decode(
            token["id_token"],
            self.keys,
            registry=JWSRegistry(algorithms=[expected]),
        )
        check(decoded.header.get("alg") == expected, f"id_token alg {decoded.header.get('alg')}")
        key = self.keys.get_by_kid(decoded.header.get("kid"))
        kty = {"RS256": "RSA", "ES256": "EC"}[expected]
        check(key.key_type == kty, f"the id_token's JWKS key is {key.key_type}, not {kty}")
        options = {
            "iss": {"essential": True, "value": ISSUER},
            "aud": {"essential": True, "value": self.client_id},
        }
        params = {"client_id": self.client_id, "access_token": token["access_token"]}
        if nonce is not None:
            params["nonce"] = nonce
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(leeway=60)
        return claims

    def refresh(self, refresh_token: str) -> dict:
        return self.session.refresh_token(
            self.meta["token_endpoint"], refresh_token=refresh_token
        )

    def refresh_fails(self, refresh_token: str, why: str) -> None:
        try:
            self.refresh(refresh_token)
        except OAuthError as error:
            check(error.error == "invalid_grant", f"{why}: expected invalid_grant, got {error.error}")
            return
        raise Failure(f"{why}: the refresh token still works")

    def active(self, token: str, hint: str) -> bool:
        response = self.session.introspect_token(
            self.meta["introspection_endpoint"], token=token, token_type_hint=hint
        )
        check(response.status_code == 200, f"introspection answered {response.status_code}")
        return bool(response.json().get("active"))


def main() -> None:
    check(ISSUER != "", "PORTAL_ISSUER is not set (run through tests/tests/e2e_second_rp.rs / make test)")
    rp = RelyingParty()
    patient = Patient(setting("PATIENT_EMAIL"), setting("PATIENT_PASSWORD"), rp.redirect_uri)

    step("sign-in 1: login and consent forms")
    first = rp.sign_in(patient)
    check(patient.pages == ["/oauth/login", "/oauth/consent"], f"pages shown: {patient.pages}")
    token = first["token"]

    userinfo = rp.session.get(rp.meta["userinfo_endpoint"], timeout=TIMEOUT)
    check(userinfo.status_code == 200, f"userinfo answered {userinfo.status_code}")
    info = userinfo.json()
    check(info.get("sub") == first["claims"]["sub"], "userinfo sub is not the id_token's")
    check(info.get("email") == patient.email, f"userinfo email {info.get('email')!r}")
    step(f"userinfo: {info.get('name')} <{info.get('email')}>")

    step("refresh: the refresh token rotates")
    old_refresh = token["refresh_token"]
    refreshed = rp.refresh(old_refresh)
    new_refresh = refreshed.get("refresh_token")
    check(bool(new_refresh) and new_refresh != old_refresh, "no new refresh token (no rotation)")
    if "id_token" in refreshed:
        # OIDC Core §12.2: a refreshed id_token is for the same subject (no new nonce to check).
        claims = rp.verify_id_token(refreshed, None)
        check(claims["sub"] == first["claims"]["sub"], "the refreshed id_token has another sub")
    check(rp.active(new_refresh, "refresh_token"), "the new refresh token is not active")
    check(not rp.active(old_refresh, "refresh_token"), "the rotated refresh token is still active")
    rp.refresh_fails(old_refresh, "the old refresh token after rotation")
    check(
        not rp.active(new_refresh, "refresh_token"),
        "replaying the old refresh token did not revoke the grant",
    )
    step("the old refresh token is refused, and its reuse revoked the grant")

    step("sign-in 2: the session is still live")
    pages_before = len(patient.pages)
    second = rp.sign_in(patient)
    check("/oauth/login" not in patient.pages[pages_before:], "asked for the password again")
    token = second["token"]
    check(rp.active(token["access_token"], "access_token"), "the access token is not active")

    step("revocation of the refresh token")
    response = rp.session.revoke_token(
        rp.meta["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    check(response.status_code == 200, f"revocation answered {response.status_code}")
    check(not rp.active(token["refresh_token"], "refresh_token"), "revoked refresh token still active")
    check(not rp.active(token["access_token"], "access_token"), "the grant's access token still active")
    rp.refresh_fails(token["refresh_token"], "the revoked refresh token")

    step("acr: password sign-ins are loa:1; acr_values=loa:2 sets up and uses a second factor")
    check(LOA2 in rp.meta.get("acr_values_supported", []), "discovery does not list loa:2")
    for claims in (first["claims"], second["claims"]):
        check(claims.get("acr") == LOA1, f"a password sign-in has acr {claims.get('acr')!r}")
        check(claims.get("amr") == ["pwd"], f"a password sign-in has amr {claims.get('amr')!r}")
    pages_before = len(patient.pages)
    third = rp.sign_in(patient, acr_values=LOA2)
    shown = patient.pages[pages_before:]
    check("/account/mfa/totp" in shown, f"no authenticator setup on the way: {shown}")
    claims = third["claims"]
    check(claims.get("acr") == LOA2, f"after the second factor acr is {claims.get('acr')!r}")
    check(
        set(claims.get("amr", [])) == {"pwd", "otp", "mfa"},
        f"after the second factor amr is {claims.get('amr')!r}",
    )
    pages_before = len(patient.pages)
    fourth = rp.sign_in(patient, acr_values=LOA2)
    check(patient.pages[pages_before:] == [], f"asked again: {patient.pages[pages_before:]}")
    check(fourth["claims"].get("acr") == LOA2, "the two-factor session is not loa:2")
    step("acr loa:2 with amr pwd otp mfa")

    step("registration: a new patient registers, confirms the mailed link, signs in to the app")
    outbox = setting("OUTBOX_DIR")
    newcomer = Patient(
        f"authlib.{secrets.token_hex(6)}@example.org", "a long and unusual passphrase",
        rp.redirect_uri,
    )
    newcomer.register(given_name="Ada", family_name="Authlib", birthdate="1990-05-17")
    newcomer.confirm(mailed_link(outbox, newcomer.email, "/account/verify"))
    joined = rp.sign_in(newcomer)
    check(newcomer.pages == ["/oauth/login", "/oauth/consent"], f"pages shown: {newcomer.pages}")
    info = rp.session.get(rp.meta["userinfo_endpoint"], timeout=TIMEOUT).json()
    check(info.get("sub") == joined["claims"]["sub"], "userinfo sub is not the newcomer's")
    check(info.get("email") == newcomer.email, f"the newcomer's userinfo email {info.get('email')!r}")
    check(info.get("email_verified") is True, f"email_verified is {info.get('email_verified')!r}")
    step(f"registered and signed in: {info.get('email')} (email_verified)")

    print("authlib RP: all checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"authlib RP FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
    except (OAuthError, requests.RequestException) as error:
        print(f"authlib RP FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - any other failure is a failed run, with its cause
        print(f"authlib RP FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
