//! A real headless Chromium for end-to-end tests, driven over WebDriver.
//!
//! [`Browser::start`] spawns Debian's `/usr/bin/chromedriver` on a free
//! loopback port and opens a session in `/usr/bin/chromium` with a fresh
//! profile in a temp dir; `scripts/test.sh` installs both packages. Nothing
//! here downloads a browser or a driver. [`Browser::close`] ends the session
//! and kills the chromedriver we spawned, by its PID; dropping a `Browser`
//! without closing it asks chromedriver to shut down and then kills it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long chromedriver may take to answer `/status`.
const DRIVER_START: Duration = Duration::from_secs(30);
/// How often waits poll.
const POLL: Duration = Duration::from_millis(50);

/// Chromium's command line. Without the background-networking flags
/// Chromium keeps trying to reach Google's hosts, which a closed network
/// refuses; `--no-sandbox` because tests may run as root in a container.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Where a test binary keeps its screenshots for people to look at:
/// `target/<profile>/screenshots/<test binary>/`.
pub fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/screenshots/<test>
    let name = exe
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.rsplit_once('-').map(|(name, _)| name.to_string()))
        .unwrap_or_else(|| "tests".into());
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> dir");
    profile_dir.join("screenshots").join(name)
}

/// One headless Chromium session and the chromedriver serving it.
pub struct Browser {
    client: Option<Client>,
    driver: Option<Child>,
    driver_addr: SocketAddr,
    /// Holds the profile (`profile/`) and chromedriver's log; removed after
    /// the driver is gone (fields drop after `Drop::drop` runs).
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and opens a new browser session.
    pub async fn start() -> Result<Browser> {
        for path in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(path).exists() {
                bail!(
                    "{path} is missing: the browser tests need Debian's chromium and \
                     chromium-driver packages (scripts/test.sh installs them)"
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("skillmesh-browser-")
            .tempdir()
            .context("creating the browser's temp dir")?;
        let profile = dir.path().join("profile");
        std::fs::create_dir(&profile).context("creating the browser profile dir")?;

        // The port was free a moment ago; if chromedriver exits at once
        // (someone took the port meanwhile), try another.
        let mut last_error = None;
        for _ in 0..3 {
            let port = super::free_port();
            let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut driver = spawn_driver(port, &dir.path().join("chromedriver.log"))?;
            match wait_until_ready(&mut driver, driver_addr).await {
                Ok(()) => {
                    let mut browser = Browser {
                        client: None,
                        driver: Some(driver),
                        driver_addr,
                        dir,
                    };
                    let client = connect(driver_addr, &profile)
                        .await
                        .with_context(|| browser.driver_log_tail())?;
                    browser.client = Some(client);
                    return Ok(browser);
                }
                Err(e) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    last_error = Some(e);
                }
            }
        }
        let log = std::fs::read_to_string(dir.path().join("chromedriver.log")).unwrap_or_default();
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("chromedriver did not start"))
            .context(format!("chromedriver did not start; its log:\n{log}")))
    }

    /// The underlying WebDriver client, for anything the helpers lack.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("a session is open until close")
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client()
            .goto(url)
            .await
            .with_context(|| format!("navigating to {url}"))
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> Result<String> {
        Ok(self
            .client()
            .current_url()
            .await
            .context("reading the current URL")?
            .to_string())
    }

    /// The current page's `<title>`.
    pub async fn title(&self) -> Result<String> {
        self.client().title().await.context("reading the title")
    }

    /// The current page's HTML as the browser now holds it.
    pub async fn page_source(&self) -> Result<String> {
        self.client()
            .source()
            .await
            .context("reading the page source")
    }

    /// The first element matching the CSS selector `css`.
    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client()
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding `{css}`"))
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        self.find(css)
            .await?
            .text()
            .await
            .with_context(|| format!("reading the text of `{css}`"))
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let field = self.find(css).await?;
        field
            .clear()
            .await
            .with_context(|| format!("clearing `{css}`"))?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking `{css}`"))
    }

    /// Submits the form matching `css` by clicking its first submit button,
    /// as a person would (so the button's name and value are sent).
    pub async fn submit_form(&self, css: &str) -> Result<()> {
        self.client()
            .form(Locator::Css(css))
            .await
            .with_context(|| format!("finding the form `{css}`"))?
            .submit()
            .await
            .with_context(|| format!("submitting the form `{css}`"))
    }

    /// Polls until an element matching `css` has text containing `needle`,
    /// and returns that text; fails after `timeout` with what it last saw.
    pub async fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last_seen = String::from("(no matching element)");
        loop {
            if let Ok(elements) = self.client().find_all(Locator::Css(css)).await {
                for element in elements {
                    if let Ok(text) = element.text().await {
                        if text.contains(needle) {
                            return Ok(text);
                        }
                        last_seen = text;
                    }
                }
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await.unwrap_or_default();
                bail!(
                    "timed out after {timeout:?} waiting for `{css}` to contain {needle:?} \
                     on {url}; last saw {last_seen:?}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Writes a PNG screenshot of the viewport to `path`, creating its
    /// parent directories.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let path = path.as_ref();
        let png = self
            .client()
            .screenshot()
            .await
            .context("taking a screenshot")?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path.to_path_buf())
    }

    /// Resizes the outer window. Headless Chromium still counts some
    /// window chrome: a 1280 x 900 window shows a 1280 x 757 page. For an
    /// exact page size use [`Browser::set_viewport_size`].
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.client()
            .set_window_size(width, height)
            .await
            .with_context(|| format!("resizing the window to {width}x{height}"))
    }

    /// Resizes the window so that the page itself is `width` x `height`
    /// CSS pixels, for example a phone's 390 x 844.
    pub async fn set_viewport_size(&self, width: u32, height: u32) -> Result<()> {
        let extra = self
            .client()
            .execute(
                "return [window.outerWidth - window.innerWidth, \
                         window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await
            .context("measuring the window chrome")?;
        let extra = |i: usize| {
            extra[i]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0)
        };
        self.set_window_size(width + extra(0), height + extra(1))
            .await
    }

    /// Ends the WebDriver session (Chromium exits) and kills chromedriver.
    pub async fn close(mut self) -> Result<()> {
        let ended = match self.client.take() {
            Some(client) => client.close().await.context("ending the WebDriver session"),
            None => Ok(()),
        };
        self.kill_driver();
        ended
    }

    /// Kills the chromedriver child we spawned, by its PID, and reaps it.
    fn kill_driver(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            let _ = driver.kill();
            let _ = driver.wait();
        }
    }

    fn driver_log_tail(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("opening a Chromium session failed; chromedriver's log ends:\n{tail}")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        // Not closed (a failed test, most likely). Killing chromedriver
        // alone would orphan Chromium, so first ask chromedriver to quit
        // its sessions and exit; then kill it whatever happened.
        if self.client.take().is_some() && request_shutdown(self.driver_addr).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = driver.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill_driver();
    }
}

fn spawn_driver(port: u16, log: &Path) -> Result<Child> {
    let log_file =
        std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let log_err = log_file.try_clone().context("cloning the log file")?;
    Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .with_context(|| format!("spawning {CHROMEDRIVER}"))
}

/// Polls chromedriver's `/status` until it reports ready.
async fn wait_until_ready(driver: &mut Child, addr: SocketAddr) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .context("building an HTTP client")?;
    let deadline = Instant::now() + DRIVER_START;
    loop {
        if let Some(status) = driver.try_wait().context("checking chromedriver")? {
            bail!("chromedriver exited at start with {status}");
        }
        if let Ok(res) = http.get(format!("http://{addr}/status")).send().await
            && let Ok(status) = res.json::<serde_json::Value>().await
            && status["value"]["ready"] == true
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("chromedriver did not answer on {addr} within {DRIVER_START:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Opens a session in headless Chromium with a fresh profile in `profile`.
async fn connect(addr: SocketAddr, profile: &Path) -> Result<Client> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://{addr}"))
        .await
        .context("opening a WebDriver session")
}

/// Asks chromedriver to end its sessions and exit, with a blocking
/// request: `Drop` cannot await anything.
fn request_shutdown(addr: SocketAddr) -> std::io::Result<()> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /shutdown HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    // The status line is enough: chromedriver got the request.
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "GET /shutdown: {}",
            String::from_utf8_lossy(&head)
        )))
    }
}
