// Hygiene: the expansion uses absolute paths only, and its locals cannot clash with the
// author's names, not even with a const generic named like a request field.
#![no_implicit_prelude]
#![allow(non_upper_case_globals)]

use ::ignition::prelude::*;
use ::std::string::String;

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
    ) -> ::std::result::Result<InfrastructureTask, InfrastructureError> {
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

fn assert_driver<D: ::ignition::__private::Driver>() {}

fn main() {
    assert_driver::<Driver<1>>();
}
