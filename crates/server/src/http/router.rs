//! The router, built through [`Routes`] so that every route is recorded with
//! who may reach it. Each capability adds its own routes (its `routes`
//! function); tests walk [`route_table`] to prove that everything not
//! listed as public refuses anonymous callers (SECURITY.md A2), and that
//! role-restricted routes refuse users without the role (C2).
//!
//! A role is enforced here, from the table, and nowhere else: a
//! role-restricted route gets a gate in front of its handler when the
//! router is built, so a handler cannot forget it.

use crate::app::state::AppState;
use crate::http::error::{AppError, RoleRefusal};
use crate::http::extract::CurrentUser;
use axum::extract::Request;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use portvakt_core::domain::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// An OAuth client authenticates itself in the request (the OpenID
    /// provider's token endpoints); anyone else gets `invalid_client`.
    Client,
    /// A bearer access token is the caller's credential (`/userinfo`);
    /// without one, `invalid_token`.
    Bearer,
    SignedIn,
    Role(Role),
    /// Any one of these roles (or a role that covers one).
    AnyRole(&'static [Role]),
}

impl Access {
    /// The roles any one of which lets a caller through, for role-gated
    /// routes.
    #[must_use]
    pub fn roles(self) -> Option<Vec<Role>> {
        match self {
            Access::Role(r) => Some(vec![r]),
            Access::AnyRole(rs) => Some(rs.to_vec()),
            Access::Public | Access::Client | Access::Bearer | Access::SignedIn => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: &'static str,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    pub access: Access,
    /// A machine endpoint (the OpenID provider's): routed before the page
    /// layers, so no CSRF form token, no page headers, no cookies.
    pub api: bool,
}

struct Entry {
    path: &'static str,
    access: Access,
    api: bool,
    handlers: MethodRouter<AppState>,
}

/// The routes being recorded, each with its access rule.
#[derive(Default)]
pub struct Routes {
    entries: Vec<Entry>,
    table: Vec<RouteInfo>,
}

impl Routes {
    /// Records `path` for `methods` with its access rule. `Access::Role`
    /// is enforced by the router; `Access::SignedIn` by the handler's
    /// [`CurrentUser`] (or a stricter) extractor, which the anonymous-caller
    /// test holds it to.
    #[must_use]
    pub fn add(
        self,
        methods: &[&'static str],
        path: &'static str,
        access: Access,
        handlers: MethodRouter<AppState>,
    ) -> Self {
        self.record(methods, path, access, false, handlers)
    }

    /// Records a machine endpoint (see [`RouteInfo::api`]). Its path must
    /// not also be a page's: the two surfaces are separate routers.
    #[must_use]
    pub fn add_api(
        self,
        methods: &[&'static str],
        path: &'static str,
        access: Access,
        handlers: MethodRouter<AppState>,
    ) -> Self {
        self.record(methods, path, access, true, handlers)
    }

    fn record(
        mut self,
        methods: &[&'static str],
        path: &'static str,
        access: Access,
        api: bool,
        handlers: MethodRouter<AppState>,
    ) -> Self {
        for method in methods {
            self.table.push(RouteInfo {
                method,
                path,
                access,
                api,
            });
        }
        self.entries.push(Entry {
            path,
            access,
            api,
            handlers,
        });
        self
    }
}

fn build() -> Routes {
    let capabilities: [fn(Routes) -> Routes; 11] = [
        crate::app::routes,
        crate::http::routes,
        crate::gateway::routes,
        crate::signin::routes,
        crate::account::routes,
        crate::portal::routes,
        crate::status::routes,
        crate::admin::routes,
        crate::oidc::routes,
        crate::audit::routes,
        crate::crisis::routes,
    ];
    capabilities
        .into_iter()
        .fold(Routes::default(), |routes, add| add(routes))
}

/// Every route with its access rule.
#[must_use]
pub fn route_table() -> Vec<RouteInfo> {
    build().table
}

/// The machine endpoints (see [`RouteInfo::api`]).
pub fn api_router() -> Router<AppState> {
    build()
        .entries
        .into_iter()
        .filter(|e| e.api)
        .fold(Router::new(), |router, e| router.route(e.path, e.handlers))
}

/// The application's pages, each role-restricted one behind its gate.
pub fn router(state: &AppState) -> Router<AppState> {
    build()
        .entries
        .into_iter()
        .filter(|e| !e.api)
        .fold(Router::new(), |router, e| {
            let handlers = match e.access.roles() {
                Some(roles) => e.handlers.route_layer(from_fn_with_state(
                    state.clone(),
                    move |user: CurrentUser, req: Request, next: Next| {
                        role_gate(roles.clone(), user, req, next)
                    },
                )),
                None => e.handlers,
            };
            router.route(e.path, handlers)
        })
}

/// Lets a signed-in user with `role` through; anyone else signed in gets
/// 403 (recorded by `audit::events::refusals`). Anonymous callers never get
/// here: [`CurrentUser`] sends them to sign in.
async fn role_gate(roles: Vec<Role>, user: CurrentUser, req: Request, next: Next) -> Response {
    if roles.iter().any(|r| user.has_role(*r)) {
        next.run(req).await
    } else {
        AppError::RoleRefused(RoleRefusal {
            organisation: user.organisation.id.clone(),
            actor: user.user.id.clone(),
        })
        .into_response()
    }
}
