package org.mikrotext.it.support;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One person's headless Chromium (Debian's), driven through the client's DOM as a person would: typing, pressing
 * buttons and keys, reading what is on the screen. Each browser has its own fresh profile.
 */
public final class Browser implements AutoCloseable {

    private static final String CHROMIUM = System.getProperty("mikrotext.it.chromium", "/usr/bin/chromium");
    private static final String CHROMEDRIVER = System.getProperty("mikrotext.it.chromedriver", "/usr/bin/chromedriver");

    private final String name;
    private final ChromeDriver driver;
    private final Path profile;

    public Browser(String name) {
        this.name = name;
        try {
            this.profile = Files.createTempDirectory("mikrotext-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-features=NetworkTimeServiceQuerying", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile,
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                "--window-size=1200,900");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build();
        this.driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    }

    /**
     * Makes every WebSocket of this browser fail to open (error, then close 1006), as behind a proxy that refuses the
     * upgrade. Installed through the DevTools protocol before any page script runs.
     */
    public void blockWebSockets() {
        driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", """
                window.WebSocket = class BlockedWebSocket extends EventTarget {
                  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
                  constructor(url) {
                    super();
                    this.url = url; this.readyState = 0;
                    setTimeout(() => {
                      this.readyState = 3;
                      const error = new Event('error');
                      this.onerror?.(error); this.dispatchEvent(error);
                      const close = new CloseEvent('close', { code: 1006, wasClean: false });
                      this.onclose?.(close); this.dispatchEvent(close);
                    }, 20);
                  }
                  send() { throw new DOMException('blocked', 'InvalidStateError'); }
                  close() {}
                };
                """));
    }

    /**
     * From the first incoming WebSocket frame that contains {@code cue} (set in the page as
     * {@code window.mikrotextHoldFrom}), this browser's page sees no more frames until
     * {@code window.mikrotextReleaseFrames()}, which hands it the held ones in order; {@code window.mikrotextHeld()}
     * lists them. Installed through the DevTools protocol before any page script runs, like a slow network would hold
     * them, but on cue.
     */
    public void holdFramesOnCue() {
        driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", """
                (() => {
                  const held = [];
                  let holding = false;
                  const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
                  Object.defineProperty(WebSocket.prototype, 'onmessage', {
                    configurable: true,
                    get() { return onmessage.get.call(this); },
                    set(handler) {
                      onmessage.set.call(this, handler && ((event) => {
                        const cue = window.mikrotextHoldFrom;
                        if (cue && String(event.data).includes(cue)) holding = true;
                        if (holding) held.push({ data: String(event.data), deliver: () => handler.call(this, event) });
                        else handler.call(this, event);
                      }));
                    },
                  });
                  window.mikrotextHeld = () => held.map((frame) => frame.data);
                  window.mikrotextReleaseFrames = () => {
                    holding = false;
                    window.mikrotextHoldFrom = null;
                    held.splice(0).forEach((frame) => frame.deliver());
                  };
                })();
                """));
    }

    public String name() {
        return name;
    }

    public WebDriver driver() {
        return driver;
    }

    /** Opens a URL and waits until the app has initialised. */
    public Browser open(String url) {
        driver.get(url);
        waitUntil(d -> "true".equals(js("return document.documentElement.dataset.ready || ''")), 30);
        return this;
    }

    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public boolean visible(String css) {
        List<WebElement> found = all(css);
        return !found.isEmpty() && found.get(0).isDisplayed();
    }

    /** Waits for an element to be displayed, then returns it. */
    public WebElement shown(String css) {
        waitUntil(d -> visible(css), 20);
        return find(css);
    }

    public void type(String css, String text) {
        WebElement field = shown(css);
        field.clear();
        field.sendKeys(text);
    }

    public void click(String css) {
        shown(css).click();
    }

    /** Types a message into the composer and sends it with Enter. */
    public void say(String text) {
        WebElement composer = shown("#composer");
        composer.sendKeys(text);
        composer.sendKeys(Keys.ENTER);
    }

    public <T> T waitUntil(Function<WebDriver, T> condition, int seconds) {
        return new WebDriverWait(driver, Duration.ofSeconds(seconds)).ignoring(RuntimeException.class)
                .until(condition::apply);
    }

    /** The messages in the log, as "sender: text", in order. */
    @SuppressWarnings("unchecked")
    public List<String> messages() {
        return (List<String>) js("return Array.from(document.querySelectorAll('#log li.message')).map(li => "
                + "li.querySelector('.sender').textContent.trim() + ': ' + li.querySelector('.text').textContent);");
    }

    /** Waits until the log holds exactly {@code expected}. */
    public void awaitMessages(List<String> expected, int seconds) {
        try {
            waitUntil(d -> messages().equals(expected), seconds);
        } catch (RuntimeException e) {
            throw new AssertionError(name + " sees " + messages() + " instead of " + expected, e);
        }
    }

    public String text(String css) {
        return shown(css).getText().trim();
    }

    /** Saves a screenshot as {@code <name>.png} under the screenshots folder. */
    public void screenshot(String file) {
        try {
            Path dir = Path.of(System.getProperty("mikrotext.it.screenshots", "target/screenshots"));
            Files.createDirectories(dir);
            Files.write(dir.resolve(file + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException e) {
                // a leftover temporary profile is harmless
            }
        }
    }
}
