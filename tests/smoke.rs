//! A first end-to-end check that the harness and the SDK work together.

mod common;

use common::TestServer;

#[tokio::test]
async fn create_and_read_back() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = common::unique("smoke");
    let created = client
        .create_secret()
        .name(&name)
        .secret_string("s3cret")
        .send()
        .await
        .unwrap();
    assert!(created.arn().unwrap().contains(&format!(":secret:{name}-")));
    let got = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some("s3cret"));
    assert_eq!(got.version_stages(), ["AWSCURRENT"]);
}
