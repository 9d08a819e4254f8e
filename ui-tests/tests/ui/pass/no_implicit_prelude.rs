// Hygiene: both expansions use absolute paths only, and their locals cannot clash with
// the author's names, not even with a const generic named like a request field.
#![no_implicit_prelude]
#![allow(non_upper_case_globals)]

use ::ignition::prelude::*;
use ::std::string::String;

#[derive(::std::fmt::Debug, ::thiserror::Error, ApiError)]
pub enum Error {
    #[error("conflict")]
    #[api_error(status = 409, retry)]
    Conflict {
        #[api_error(field)]
        __ignition_fields: String,
        #[api_error(field = "other")]
        __ignition_field0: u8,
    },
    #[error("gone")]
    #[api_error(status = 410)]
    Gone(#[api_error(field = "id")] String),
    #[error("other")]
    #[api_error(status = 500)]
    Other,
}

pub struct Driver<const template: usize>;

#[vim_driver]
impl<const template: usize> Driver<template> {
    async fn create_infrastructure(
        &self,
        request: String,
        __ignition_request: String,
        _: PropValueMap,
        _: PropValueMap,
        _: DeploymentLocation,
    ) -> ::std::result::Result<CreateInfrastructureResponse, InfrastructureError> {
        ::std::result::Result::Ok(CreateInfrastructureResponse::new(request, __ignition_request))
    }

    async fn get_infrastructure_task(
        &self,
        _: String,
        _: String,
        _: DeploymentLocation,
    ) -> ::std::result::Result<InfrastructureTask, Error> {
        ::std::todo!()
    }

    async fn delete_infrastructure(
        &self,
        _: String,
        _: DeploymentLocation,
    ) -> ::std::result::Result<DeleteInfrastructureResponse, InfrastructureError> {
        ::std::todo!()
    }

    async fn find_infrastructure(
        &self,
        _: String,
        _: String,
        _: String,
        _: DeploymentLocation,
    ) -> ::std::result::Result<FindInfrastructureResponse, InfrastructureError> {
        ::std::todo!()
    }
}

fn assert_driver<D: ::ignition::Driver + ::ignition::__private::VimDriver>() {}

fn main() {
    assert_driver::<Driver<1>>();
}
