#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for project {project}")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        project: String,
        #[api_error(field = "retryAfterSeconds")]
        retry_after: u32,
        limit: u32,
    },
    #[error("quota service unavailable")]
    #[api_error(status = 503, retry)]
    Unavailable,
    #[error("invalid quota request: {0}")]
    #[api_error(status = 422)]
    Invalid(#[api_error(field = "reason")] String),
    #[error(transparent)]
    #[api_error(status = 500)]
    Internal(#[from] std::io::Error),
}
#[automatically_derived]
impl ::ignition::__private::ApiError for QuotaError {
    fn status(&self) -> ::core::primitive::u16 {
        match *self {
            Self::Exceeded { .. } => 409,
            Self::Unavailable { .. } => 503,
            Self::Invalid { .. } => 422,
            Self::Internal { .. } => 500,
        }
    }
    fn retry(&self) -> ::core::primitive::bool {
        match *self {
            Self::Exceeded { .. } => false,
            Self::Unavailable { .. } => true,
            Self::Invalid { .. } => false,
            Self::Internal { .. } => false,
        }
    }
    fn extra_fields(
        &self,
    ) -> ::ignition::__private::JsonMap<
        ::std::string::String,
        ::ignition::__private::JsonValue,
    > {
        let mut __ignition_fields = ::ignition::__private::JsonMap::new();
        match self {
            Self::Exceeded {
                project: __ignition_field0,
                retry_after: __ignition_field1,
                ..
            } => {
                ::ignition::__private::insert_field::<
                    String,
                >(&mut __ignition_fields, "project", __ignition_field0);
                ::ignition::__private::insert_field::<
                    u32,
                >(&mut __ignition_fields, "retryAfterSeconds", __ignition_field1);
            }
            Self::Invalid { 0: __ignition_field0, .. } => {
                ::ignition::__private::insert_field::<
                    String,
                >(&mut __ignition_fields, "reason", __ignition_field0);
            }
            _ => {}
        }
        __ignition_fields
    }
    fn statuses() -> ::std::vec::Vec<::core::primitive::u16> {
        ::std::vec![409, 422, 500, 503]
    }
}
#[derive(Debug, thiserror::Error, ApiError)]
#[error("upstream {service} failed")]
#[api_error(status = 502, retry)]
pub struct Upstream<D: std::fmt::Debug> {
    #[api_error(field)]
    service: String,
    #[api_error(field)]
    detail: D,
}
#[automatically_derived]
impl<D: std::fmt::Debug> ::ignition::__private::ApiError for Upstream<D>
where
    D: ::ignition::__private::ErrorField,
{
    fn status(&self) -> ::core::primitive::u16 {
        502
    }
    fn retry(&self) -> ::core::primitive::bool {
        true
    }
    fn extra_fields(
        &self,
    ) -> ::ignition::__private::JsonMap<
        ::std::string::String,
        ::ignition::__private::JsonValue,
    > {
        let mut __ignition_fields = ::ignition::__private::JsonMap::new();
        match self {
            Self { service: __ignition_field0, detail: __ignition_field1, .. } => {
                ::ignition::__private::insert_field::<
                    String,
                >(&mut __ignition_fields, "service", __ignition_field0);
                ::ignition::__private::insert_field::<
                    D,
                >(&mut __ignition_fields, "detail", __ignition_field1);
            }
        }
        __ignition_fields
    }
    fn statuses() -> ::std::vec::Vec<::core::primitive::u16> {
        ::std::vec![502]
    }
}
