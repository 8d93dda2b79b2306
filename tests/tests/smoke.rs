use tafel_protocol::*;
use tafel_tests::*;

#[tokio::test]
async fn smoke() -> anyhow::Result<()> {
    let server = Server::start()?;
    let s = server.create_session("Smoke", false).await?;
    let mut f = server.client().await?;
    let w = f.resume(&s.code, &s.facilitator_token).await?;
    println!("{w:?}");
    let mut p = server.client().await?;
    let w = p.join(&s.code, "Anna", Perspective::Medewerker).await?;
    println!("{w:?}");
    let r = p
        .ok(Command::AddCard {
            text: "Idee".into(),
            kind: CardKind::Idea,
            builds_on: None,
        })
        .await?;
    println!("{r:?}");
    f.until(|v| v.cards.len() == 1).await?;
    println!("{:?}", f.view());
    Ok(())
}
